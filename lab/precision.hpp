// `tinyml precision`: the options, the measured results (a plain struct), the computation, and the
// renderings of the results: SVG figures, text tables, one JSON object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lab/argmax_flips.hpp"
#include "tinyml/plot/svg.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/precision.hpp"

namespace tinyml::cli::precision {

struct Options {
  std::string out;
  int bits = 4;
  std::string model;  // empty: train a small MLP here
  std::string dataset = "fashion-mnist";
  int64_t train_limit = 10000;
  int64_t epochs = 1;
  std::string observer = "histogram";
  int64_t calib_batches = 8;
  uint64_t seed = 0;
  int threads = 1;
  bool json = false;
};

// One quantization level of the first layer's weights: the weights that landed on it.
struct Stair {
  int32_t level = 0;
  double value = 0.0;          // step · level
  size_t n = 0;                // weights on this level
  float lo = 0.0f, hi = 0.0f;  // their original range (n > 0)
};

// Everything the command measures; no field depends on how it is shown.
struct Results {
  int bits = 4;
  std::string observer;
  std::string model_text;  // where the model came from
  std::string data_name;
  size_t calib_batches = 0;  // batches of 256 actually drawn
  std::string w_name;        // the layer whose weights are studied (the first Linear)
  std::string a_name;        // the layer whose inputs are studied (the second Linear, or the first)
  std::string spec_text;     // "int4 symmetric per-tensor"
  // The first layer's weights at `bits` bits, symmetric per tensor.
  double step = 0.0;
  plot::Bins error_hist;  // ŵ − w in bins of step/40 over ±0.75·step
  std::vector<float> w, w_hat;
  std::vector<Stair> stairs;  // every level, or every `stair_every`th when there are many
  int32_t stair_every = 1;
  // SNR (dB) at 2..8 bits, min/max ranges per tensor.
  std::vector<double> bits_axis, w_sym, w_aff, a_sym, a_aff;
  // The second layer's inputs and the range the observer chose at uint<bits>.
  quant::LayerStats act;
  plot::Bins act_hist;         // the calibration histogram up to its last value (plus margin)
  plot::Bins act_hist_figure;  // the same in about 60 bars
  std::vector<quant::LayerError> table8, table4, table_b;  // table_b: only when bits is not 8 or 4
  std::vector<quant::PrecisionReport> formats;             // fp32, fp16, bf16, int8, int4
  int64_t format_inputs = 0;                               // rows of X behind `formats`
  std::vector<double> bounds;                              // error bounds of the bit-width search
  std::vector<quant::BitwidthChoice> choices;
  FlipResult flips;
};

// Loads or trains the model, then measures everything. Prints nothing.
Results compute(const Options& o);

// The four SVG figures, written into `dir`.
void write_figures(const Results& r, const std::string& dir);
// What the terminal shows; `out` is the folder named for the figures.
std::string render_text(const Results& r, const std::string& out);
// Every table as one JSON object (one line).
std::string render_json(const Results& r, const std::string& out);

}  // namespace tinyml::cli::precision
