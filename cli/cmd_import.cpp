// `tinyml import`: reads an ONNX MLP (e.g. from torch.onnx.export) into a tinyml model file.
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/onnx_import.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/train/datasets.hpp"
#include "tinyml/train/mlp.hpp"

namespace tinyml::cli {

namespace {

struct ImportOptions {
  std::string in;
  std::string out;
  std::string dataset;  // written to the metadata, so eval and quantize need no --dataset
};

// The layer sizes (in, hidden..., out) of the Linear layers, as `train --save` records "arch".
std::vector<int64_t> linear_sizes(const nn::Sequential& model) {
  std::vector<int64_t> sizes;
  for (const auto& [name, child] : model.named_children())
    if (const auto* l = dynamic_cast<const nn::Linear*>(child.get())) {
      if (sizes.empty()) sizes.push_back(l->in_features());
      sizes.push_back(l->out_features());
    }
  return sizes;
}

void run_import(const ImportOptions& o) {
  std::error_code ec;
  TINYML_CHECK(!std::filesystem::equivalent(o.in, o.out, ec),
               "import: --out '{}' is the input file itself; choose another file", o.out);
  auto model = io::import_onnx(o.in);
  const std::vector<int64_t> sizes = linear_sizes(*model);
  std::map<std::string, std::string> meta = {
      {"arch", train::arch_string(sizes)}, {"model", "mlp"}, {"source", "onnx"}};
  if (!o.dataset.empty()) {
    const train::DataSplits data = train::load_dataset(o.dataset, /*train=*/false, std::nullopt, size_t{1});
    train::check_arch_fits(sizes, data, fmt::format("the model in '{}',", o.in).c_str());
    meta["dataset"] = o.dataset;
  }
  io::save_model(*model, o.out, meta);
  fmt::print("imported {} ({} layers, MLP {}) into {}\n", o.in, model->size(), train::arch_string(sizes),
             o.out);
}

}  // namespace

void register_import(CLI::App& app) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* cmd =
      app.add_subcommand("import", "Import an ONNX MLP (e.g. from torch.onnx.export) as a tinyml model file");
  cmd->add_option("file", o->in, "ONNX model (.onnx)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "Where to write the model (.safetensors)")->required();
  cmd->add_option("--dataset", o->dataset,
                  "fashion-mnist | xor | spirals: recorded in the file (checked against the model's sizes), "
                  "so eval and quantize need no --dataset")
      ->check(CLI::IsMember(train::dataset_names()));
  cmd->callback([o] { run_import(*o); });
}

}  // namespace tinyml::cli
