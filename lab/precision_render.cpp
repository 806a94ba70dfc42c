// `tinyml precision`'s results as the terminal shows them, and as one JSON object.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lab/precision.hpp"

namespace tinyml::cli::precision {

namespace {

namespace svg = tinyml::plot;

// Appends fmt::format(f, args...) to `s`. Through fmt::vformat, which the fmt library compiles
// once: fmt::format_to into a string compiles fmt's whole formatting engine into this file (under
// the sanitizer build, 4 of lab/'s 18 CPU-seconds).
template <typename... Args>
void put(std::string& s, fmt::format_string<Args...> f, const Args&... args) {
  s += fmt::vformat(f, fmt::make_format_args(args...));
}

std::string histogram_table(const svg::Bins& h, const char* value_format) {
  const double peak = *std::max_element(h.counts.begin(), h.counts.end());
  std::string s = fmt::format("  {:>23}  {:>8}\n", "bin", "count");
  for (size_t i = 0; i < h.counts.size(); ++i) {
    const int bar = peak > 0 ? static_cast<int>(std::lround(40.0 * h.counts[i] / peak)) : 0;
    put(s, "  [{}, {})  {:>8.0f}{}\n", fmt::format(fmt::runtime(value_format), h.edges[i]),
        fmt::format(fmt::runtime(value_format), h.edges[i + 1]), h.counts[i],
        bar > 0 ? "  " + std::string(static_cast<size_t>(bar), '#') : std::string());
  }
  return s;
}

std::string weight_section(const Results& r) {
  std::string s;
  put(s, "== Quantization error of layer {} weights, {} (step {:.4g}; all within ±step/2) ==\n", r.w_name,
      r.spec_text, r.step);
  put(s, "{}\n", histogram_table(svg::rebin(r.error_hist, 5), "{:+.5f}"));
  put(s, "== Reconstructed vs original, layer {} weights, {}: the staircase ==\n", r.w_name, r.spec_text);
  put(s, "  {:>5}  {:>10}  {:>8}  {:>22}\n", "q", "ŵ = s·q", "weights", "original range");
  for (const Stair& st : r.stairs) {
    if (st.n == 0)
      put(s, "  {:>5}  {:>+10.5f}  {:>8}\n", st.level, st.value, 0);
    else
      put(s, "  {:>5}  {:>+10.5f}  {:>8}  [{:+.5f}, {:+.5f}]\n", st.level, st.value, st.n, st.lo, st.hi);
  }
  if (r.stair_every > 1) put(s, "  (every {}th level shown)\n", r.stair_every);
  put(s, "\n== SNR (dB) against bits, min/max ranges per tensor ==\n");
  put(s, "  {:>4}  {:>14}  {:>14}  {:>16}  {:>16}\n", "bits", "W sym", "W affine", "act sym", "act affine");
  for (size_t i = 0; i < r.bits_axis.size(); ++i)
    put(s, "  {:>4.0f}  {:>14.2f}  {:>14.2f}  {:>16.2f}  {:>16.2f}\n", r.bits_axis[i], r.w_sym[i], r.w_aff[i],
        r.a_sym[i], r.a_aff[i]);
  put(s, "  (W: layer {} weights; act: inputs of layer {})\n", r.w_name, r.a_name);
  return s;
}

std::string activation_section(const Results& r) {
  const quant::LayerStats& st = r.act;
  std::string s;
  put(s, "\n== Inputs of layer {}: {} observer at uint{} ==\n", r.a_name, r.observer, r.bits);
  put(s, "  values {}, min {:.4g}, max {:.4g}, mean {:.4g}, p99 {:.4g}, p99.99 {:.4g}\n", st.count, st.min,
      st.max, st.mean, st.p99, st.p9999);
  put(s, "  chosen range [{:.4g}, {:.4g}] ({}), clips {:.4f}% of the values, scale {:.4g}, zero point {}\n",
      st.chosen.lo, st.chosen.hi, st.chosen.why, 100.0 * st.chosen.clipped_fraction, st.qparams.scale[0],
      st.qparams.zero_point[0]);
  put(s, "{}\n",
      histogram_table(svg::rebin(r.act_hist, std::max<size_t>(1, r.act_hist.counts.size() / 16)), "{:9.4f}"));
  return s;
}

std::string layer_table(const std::vector<quant::LayerError>& rows) {
  std::string s = fmt::format("  {:<8} {:>12} {:>11} {:>11} {:>9} {:>9} {:>10} {:>10}\n", "layer", "shape",
                              "mse", "max |err|", "rel err", "SNR dB", "fp32 B", "stored B");
  for (const auto& e : rows)
    put(s, "  {:<8} {:>12} {:>11.3e} {:>11.3e} {:>9.4f} {:>9.2f} {:>10} {:>10}\n", e.name,
        fmt::format("{}x{}", e.shape[0], e.shape[1]), e.mse, e.max_abs_error, e.mean_relative_error, e.snr_db,
        e.fp32_bytes, e.quantized_bytes);
  return s;
}

std::string tables_section(const Results& r) {
  std::string s = "== Weight errors per layer, int8 symmetric per-channel ==\n" + layer_table(r.table8);
  s += "\n== Weight errors per layer, int4 symmetric per-channel (packed) ==\n" + layer_table(r.table4);
  if (!r.table_b.empty())
    s += fmt::format("\n== Weight errors per layer, int{} symmetric per-channel ==\n", r.bits) +
         layer_table(r.table_b);
  put(s, "\n== Layer {} in each number format: y = X·Wᵀ against fp32 (X: {} inputs) ==\n", r.w_name,
      r.format_inputs);
  put(s, "  {:<6} {:>11} {:>11} {:>9} {:>9} {:>21} {:>10}\n", "format", "mean |err|", "max |err|", "rel err",
      "SNR dB", "output range", "W bytes");
  for (const auto& f : r.formats)
    put(s, "  {:<6} {:>11.3e} {:>11.3e} {:>9.5f} {:>9} {:>21} {:>10}\n", quant::to_string(f.format),
        f.mean_abs_error, f.max_abs_error, f.mean_relative_error,
        std::isfinite(f.snr_db) ? fmt::format("{:.2f}", f.snr_db) : "inf",
        fmt::format("[{:.3f}, {:.3f}]", f.approx_min, f.approx_max), f.weight_bytes);
  put(s, "\n== Smallest bit width for layer {} weights (affine per tensor) ==\n", r.w_name);
  put(s, "  {:>13}  {:>5}  {:>9}  {:>11}\n", "max rel err", "bits", "rel err", "compression");
  for (size_t i = 0; i < r.bounds.size(); ++i)
    put(s, "  {:>13.2f}  {:>5}  {:>9.4f}  {:>10.2f}x\n", r.bounds[i],
        r.choices[i].found ? std::to_string(r.choices[i].bits) : "fp32", r.choices[i].relative_error,
        r.choices[i].compression_ratio);
  const FlipResult& f = r.flips;
  put(s, "\n== Argmax flips: random MLP {}-{}-{}, {} inputs, weights only ==\n", f.inputs, f.hidden,
      f.classes, f.samples);
  put(s, "  int8: {} of {} predictions change (logit SNR {:.1f} dB)\n", f.flips_int8, f.samples,
      f.logit_snr_int8_db);
  put(s, "  int4: {} of {} predictions change (logit SNR {:.1f} dB)\n", f.flips_int4, f.samples,
      f.logit_snr_int4_db);
  put(s, "  mean gap between the two largest fp32 logits: {:.4f}\n", f.mean_top2_gap);
  return s;
}

// A JSON number, or null for ±Inf/NaN (JSON has neither).
nlohmann::json jnum(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json layer_rows(const std::vector<quant::LayerError>& rows) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : rows)
    j.push_back({{"name", e.name},
                 {"shape", e.shape},
                 {"bits", e.bits},
                 {"mse", e.mse},
                 {"max_abs_error", e.max_abs_error},
                 {"mean_relative_error", e.mean_relative_error},
                 {"snr_db", jnum(e.snr_db)},
                 {"fp32_bytes", e.fp32_bytes},
                 {"quantized_bytes", e.quantized_bytes}});
  return j;
}

nlohmann::json activation_json(const Results& r) {
  const quant::LayerStats& st = r.act;
  return {{"layer", r.a_name},
          {"observer", r.observer},
          {"min", st.min},
          {"max", st.max},
          {"p99", st.p99},
          {"p9999", st.p9999},
          {"clip_lo", st.chosen.lo},
          {"clip_hi", st.chosen.hi},
          {"clipped_fraction", st.chosen.clipped_fraction},
          {"edges", r.act_hist_figure.edges},
          {"counts", r.act_hist_figure.counts}};
}

nlohmann::json formats_json(const Results& r) {
  nlohmann::json fj = nlohmann::json::array();
  for (const auto& f : r.formats)
    fj.push_back({{"format", quant::to_string(f.format)},
                  {"mean_abs_error", f.mean_abs_error},
                  {"max_abs_error", f.max_abs_error},
                  {"mean_relative_error", f.mean_relative_error},
                  {"snr_db", jnum(f.snr_db)},
                  {"out_min", f.out_min},
                  {"out_max", f.out_max},
                  {"weight_bytes", f.weight_bytes}});
  return {{"layer", r.w_name}, {"rows", fj}};
}

nlohmann::json choices_json(const Results& r) {
  nlohmann::json cj = nlohmann::json::array();
  for (size_t i = 0; i < r.bounds.size(); ++i)
    cj.push_back({{"max_rel_error", r.bounds[i]},
                  {"found", r.choices[i].found},
                  {"bits", r.choices[i].bits},
                  {"relative_error", r.choices[i].relative_error},
                  {"compression_ratio", r.choices[i].compression_ratio}});
  return cj;
}

nlohmann::json flips_json(const FlipResult& f) {
  return {{"samples", f.samples},
          {"inputs", f.inputs},
          {"hidden", f.hidden},
          {"classes", f.classes},
          {"flips_int8", f.flips_int8},
          {"flips_int4", f.flips_int4},
          {"mean_top2_gap", f.mean_top2_gap},
          {"logit_snr_int8_db", f.logit_snr_int8_db},
          {"logit_snr_int4_db", f.logit_snr_int4_db}};
}

}  // namespace

std::string render_text(const Results& r, const std::string& out) {
  std::string s;
  put(s, "model   {}\n", r.model_text);
  put(s, "data    {} calibration batches of 256 {} training examples\n", r.calib_batches, r.data_name);
  put(s, "figures {}/error_hist_int{}.svg, scatter_int{}.svg, snr_vs_bits.svg, activation_hist_int{}.svg\n\n",
      out, r.bits, r.bits, r.bits);
  return s + weight_section(r) + activation_section(r) + tables_section(r);
}

std::string render_json(const Results& r, const std::string& out) {
  nlohmann::json j;
  j["model"] = r.model_text;
  j["bits"] = r.bits;
  j["out"] = out;
  j["error_histogram"] = {{"layer", r.w_name},
                          {"spec", r.spec_text},
                          {"step", r.step},
                          {"edges", r.error_hist.edges},
                          {"counts", r.error_hist.counts}};
  j["snr_vs_bits"] = {{"bits", r.bits_axis},           {"weights_symmetric", r.w_sym},
                      {"weights_affine", r.w_aff},     {"activations_symmetric", r.a_sym},
                      {"activations_affine", r.a_aff}, {"activation_layer", r.a_name}};
  j["activation"] = activation_json(r);
  j["weight_errors_int8"] = layer_rows(r.table8);
  j["weight_errors_int4"] = layer_rows(r.table4);
  if (!r.table_b.empty()) j[fmt::format("weight_errors_int{}", r.bits)] = layer_rows(r.table_b);
  j["formats"] = formats_json(r);
  j["bitwidth_choices"] = choices_json(r);
  j["argmax_flips"] = flips_json(r.flips);
  return j.dump() + "\n";
}

}  // namespace tinyml::cli::precision
