// `tinyml profile`: where a saved model's time and bytes go, layer by layer, and what quantizing would save.
#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/support.hpp"
#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/profile.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/train/model_loader.hpp"

namespace tinyml::cli {

namespace {

struct ProfileOptions {
  std::string file;
  int64_t batch = 64;
  int runs = 10;
  int threads = 1;
  bool json = false;
};

// The input width of a model: the in_features of its first (quantized) Linear, depth first.
int64_t input_width(nn::Module& m) {
  if (const auto* l = dynamic_cast<const nn::Linear*>(&m)) return l->in_features();
  if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&m)) return q->in_features();
  for (const auto& entry : m.named_children())
    if (const int64_t w = input_width(*entry.second); w > 0) return w;
  return 0;
}

nlohmann::ordered_json to_json(const quant::ModelProfile& p) {
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const quant::LayerProfile& l : p.layers)
    layers.push_back({{"name", l.name},
                      {"type", l.type},
                      {"input_shape", l.input_shape},
                      {"output_shape", l.output_shape},
                      {"parameters", l.parameters},
                      {"bytes", l.bytes},
                      {"bits", l.bits},
                      {"flops", l.flops},
                      {"activation_bytes", l.activation_bytes},
                      {"seconds", l.seconds},
                      {"int8_bytes", l.int8_bytes},
                      {"int4_bytes", l.int4_bytes}});
  return {{"input_shape", p.input_shape},
          {"runs", p.runs},
          {"seconds", p.seconds},
          {"parameters", p.parameters()},
          {"bytes", p.bytes()},
          {"flops", p.flops()},
          {"activation_bytes", p.activation_bytes()},
          {"int8_bytes", p.int8_bytes()},
          {"int4_bytes", p.int4_bytes()},
          {"layers", layers}};
}

void run_profile(const ProfileOptions& o) {
  apply_threads(o.threads);
  train::LoadedModel loaded = train::load_model_file(o.file);
  const int64_t width = loaded.arch.empty() ? input_width(*loaded.model) : loaded.arch.front();
  TINYML_CHECK(width > 0, "profile: cannot tell the input width of the model in '{}' (no Linear layer)",
               o.file);
  const quant::ModelProfile p = quant::profile(*loaded.model, Tensor::full({o.batch, width}, 0.5f), o.runs);
  if (o.json) {
    fmt::print("{}\n", to_json(p).dump());
  } else {
    fmt::print("model {} from {}\n{}", loaded.model->type_name(), o.file, quant::format_profile(p));
  }
}

}  // namespace

void register_profile(CLI::App& app) {
  auto o = std::make_shared<ProfileOptions>();
  CLI::App* cmd = app.add_subcommand(
      "profile", "Per layer: parameters, bytes, FLOPs, activation memory and time of a saved model");
  cmd->add_option("model", o->file, "Model file (.safetensors), float or quantized")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--batch", o->batch, "Rows of the input")
      ->check(int_in_range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--runs", o->runs, "Forward passes to average")
      ->check(int_in_range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Kernel threads (OpenBLAS and oneDNN); 0: all cores")
      ->check(int_in_range(0, 1024))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the profile as JSON");
  cmd->callback([o] { run_profile(*o); });
}

}  // namespace tinyml::cli
