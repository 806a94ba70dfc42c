// `tinyml demo`: its options, the measured results of one run (plain structs), the computation, and
// the renderings of the results on the terminal (text or one JSON object).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tinyml::cli::demo {

struct Options {
  int64_t epochs = 5;
  int64_t qat_epochs = 1;
  std::string out = "out/demo";
  uint64_t seed = 0;
  int threads = 1;
  int64_t train_limit = 0;  // 0: the whole split
  int64_t test_limit = 0;
  int64_t calib_batches = 10;
  int64_t repeat = 5;
  bool json = false;
  bool quiet = false;
  std::string command;  // the command line as given, for the report (cli::given_command_line)
};

// One training epoch of the float model.
struct Epoch {
  int64_t epoch = 0;
  double seconds = 0.0;
  double train_loss = 0.0;  // mean over the epoch's examples
  double test_acc = 0.0;    // fraction, after the epoch
};

// One model of the comparison table. Every figure comes from the run.
struct Row {
  std::string name;       // "int8 dynamic", as printed
  std::string key;        // file stem and JSON key: "int8_dynamic"
  std::string how;        // one sentence on how it was made
  double accuracy = 0.0;  // fraction of the test images
  size_t correct = 0;
  size_t n = 0;
  double delta_points = 0.0;  // 100 · (accuracy − fp32 accuracy)
  size_t memory_bytes = 0;    // quant::model_bytes
  uintmax_t file_bytes = 0;   // size of `file` on disk
  std::string file;           // the saved model (io::save_model), a file name inside the output folder
  double ms_per_1000 = 0.0;   // median over the timed evaluations
  double speedup = 0.0;       // fp32 ms / this ms
};

// Test accuracy of weight-only, symmetric per-channel quantization at one bit width.
struct BitsPoint {
  int bits = 0;
  double acc_minmax = 0.0;
  double acc_mse = 0.0;
};

// One output channel of a weight: its values and the int4 ranges the two criteria chose.
struct ClipPicture {
  std::string layer;  // as in named_modules()
  int64_t channel = 0;
  int bits = 4;
  std::vector<float> weights;
  double minmax_clip = 0.0;  // ±: the channel's largest |w|
  double mse_clip = 0.0;     // ±: scale · qmax of the MSE-chosen qparams
};

// The calibration histogram of one Linear's inputs and the static range chosen from it.
struct ActivationPicture {
  std::string layer;
  std::string observer;
  int bits = 8;
  int64_t count = 0;
  std::vector<double> edges;  // as calibrate() binned them
  std::vector<double> counts;
  double min = 0.0, max = 0.0;
  double lo = 0.0, hi = 0.0;  // the chosen range
  double clipped_fraction = 0.0;
};

// Weight reconstruction errors ŵ − w of one layer at 8 and at 4 bits (symmetric per channel).
struct ErrorPicture {
  std::string layer;
  std::vector<float> err8;
  std::vector<float> err4;
  double max_step8 = 0.0;  // the largest channel scale at each width
  double max_step4 = 0.0;
};

// Everything the report shows.
struct Results {
  std::string command;      // the command line, as a user would type it
  std::string machine;      // CPU model, threads, BLAS
  std::string dataset;      // "Fashion-MNIST from ...: 60000 train, 10000 test"
  std::string model;        // "MLP 784-256-128-10 (ReLU), ..."
  std::string calibration;  // what the calibration data was
  std::string out;          // the output folder: the saved models, the report
  size_t train_n = 0;
  size_t test_n = 0;
  int64_t repeat = 1;  // timed evaluations behind each latency
  std::vector<Epoch> epochs;
  std::vector<Row> rows;  // rows[0] is fp32
  // QAT trains further: the float model trained the same extra epochs (same rate and order)
  // tells what the training alone gains. Negative when QAT ran no epoch.
  int64_t qat_epochs = 0;
  double qat_lr = 0.0;
  double qat_control_accuracy = -1.0;
  std::vector<BitsPoint> bits;
  ClipPicture clip;
  ActivationPicture activation;
  ErrorPicture error;
  std::vector<std::string> class_names;
  std::vector<int64_t> confusion;  // classes × classes, row = true class, column = predicted
  std::string model_dot;           // the float model's layers in Graphviz DOT (io::model_to_dot)
  double total_seconds = 0.0;
};

// What compute() tells its caller while it runs (each callback may be empty).
struct Events {
  std::function<void(const Results&)> started;   // the description fields are known, nothing trained yet
  std::function<void(const Epoch&)> epoch_done;  // one epoch of the float model
  bool progress = false;                         // progress bars on stderr
};

// Trains the float model, quantizes copies of it, measures them (each saved into o.out, which must
// exist) and gathers what the figures show. Prints nothing but the progress bars `events` asks for.
Results compute(const Options& o, const Events& events);

// What report.md and its figures became (demo_report.hpp: write_report).
struct ReportFiles {
  std::string report;                // path of report.md
  std::vector<std::string> figures;  // figure files inside the folder, in the report's order
  std::string graph;                 // path of model.dot, the float model's graph
  bool graph_drawn = false;          // whether Graphviz drew it as model.svg (one of `figures`)
};

// The terminal's text: the description, the epochs' column titles, one line per epoch, and the
// summary after training.
std::string render_header(const Results& r);
std::string render_epoch_columns();
std::string render_epoch(const Epoch& e);
std::string render_summary(const Results& r, const ReportFiles& files);
// The results as one JSON object (one line).
std::string render_json(const Results& r, const ReportFiles& files);

}  // namespace tinyml::cli::demo
