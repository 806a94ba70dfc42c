// `tinyml export`: writes a saved model (float or quantized) as an ONNX graph for other runtimes.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/io/onnx_export.hpp"
#include "tinyml/train/model_loader.hpp"

namespace tinyml::cli {

namespace {

struct ExportOptions {
  std::string in;
  std::string format = "onnx";
  std::string out;
  int opset = 0;  // 0: the newest the linked ONNX library knows
  std::string linear = "gemm";
};

void run_export(const ExportOptions& o) {
  std::error_code ec;
  TINYML_CHECK(!std::filesystem::equivalent(o.in, o.out, ec),
               "export: --out '{}' is the input model itself; choose another file", o.out);
  auto model = train::load_sequential(o.in, "export");
  io::OnnxExportOptions options;
  options.opset = o.opset;
  options.linear = o.linear == "matmul" ? io::OnnxLinearOp::MatMul : io::OnnxLinearOp::Gemm;
  io::export_onnx(*model, o.out, options);
  fmt::print("wrote {} ({} bytes, ONNX, checked by onnx::checker) from {}\n", o.out,
             std::filesystem::file_size(o.out), o.in);
}

}  // namespace

void register_export(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Export a saved model (float, or from `tinyml quantize`) to ONNX (docs/interop.md)");
  cmd->add_option("model", o->in, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", o->format, "Output format")
      ->check(CLI::IsMember({"onnx"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Where to write the .onnx file")->required();
  cmd->add_option("--opset", o->opset,
                  "ONNX opset version, 13..17 (default: 17, the newest the checker knows)")
      ->check(int_in_range(13, 17));
  cmd->add_option("--linear", o->linear, "Float Linear layers as gemm (Gemm) or matmul (MatMul + Add)")
      ->check(CLI::IsMember({"gemm", "matmul"}))
      ->capture_default_str();
  cmd->callback([o] { run_export(*o); });
}

}  // namespace tinyml::cli
