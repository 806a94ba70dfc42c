// Two spirals: an MLP learns a boundary no straight line can draw, and we draw what it learned.
// Usage: spirals [steps (default 600)] [picture.svg (default spirals.svg)]
// Prints train and test accuracy and writes the decision regions with the data on top as SVG
// (render it with e.g. `rsvg-convert spirals.svg -o spirals.png`, or open it in a browser).
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/plot/svg.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;
namespace svg = tinyml::plot;

namespace {

// Fraction of the examples of `set` whose predicted class is the target.
double accuracy(nn::Module& model, const data::TensorDataset& set) {
  return train::accuracy(model, set.data(), set.targets());
}

// A series of dots only (no connecting line).
svg::Series dots(const std::string& label, const std::string& color, double radius) {
  svg::Series s;
  s.label = label;
  s.color = color;
  s.line = false;
  s.marker_radius = radius;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 600;
  const std::string out = argc > 2 ? argv[2] : "spirals.svg";
  if (steps <= 0) {
    fmt::print(stderr, "usage: spirals [steps > 0] [picture.svg]\n");
    return 2;
  }
  try {
    // Separate generators for the training set, the test set and the weights: each is reproducible
    // on its own, and the test points are fresh draws from the same spirals, not training points.
    Generator data_gen(1), test_gen(2), init_gen(3);
    const data::TensorDataset train =
        data::spirals(/*n_per_class=*/300, /*n_classes=*/2, /*noise=*/0.2f, data_gen);
    const data::TensorDataset test = data::spirals(200, 2, 0.2f, test_gen);

    // Two hidden layers: each ReLU unit adds one crease to the boundary, and a spiral needs many.
    auto model = tinyml::train::make_mlp({2, 64, 64, 2}, init_gen);
    optim::Adam adam(model->parameters(), {.lr = 1e-2});
    nn::CrossEntropyLoss loss_fn;

    // 600 points fit in one batch, so every step sees the whole training set.
    for (int step = 1; step <= steps; ++step) {
      adam.zero_grad();
      Tensor loss = loss_fn((*model)(train.data()), train.targets());
      loss.backward();
      adam.step();
      if (step % (steps / 4 > 0 ? steps / 4 : 1) == 0)
        fmt::print("step {:4d}  loss {:.4f}\n", step, loss.item());
    }

    model->eval();
    NoGradGuard no_grad;
    fmt::print("train accuracy: {:.1f}%\n", 100.0 * accuracy(*model, train));
    fmt::print("test accuracy: {:.1f}%\n", 100.0 * accuracy(*model, test));

    // The decision regions: classify every point of a dense grid in one forward pass and draw it as
    // small faint dots; the data goes on top in stronger colors.
    constexpr int64_t kGrid = 90;
    constexpr float kLo = -1.3f, kHi = 1.3f;
    std::vector<float> grid;
    grid.reserve(2 * kGrid * kGrid);
    for (int64_t i = 0; i < kGrid; ++i)
      for (int64_t j = 0; j < kGrid; ++j) {
        grid.push_back(kLo + (kHi - kLo) * static_cast<float>(j) / (kGrid - 1));
        grid.push_back(kLo + (kHi - kLo) * static_cast<float>(i) / (kGrid - 1));
      }
    const Tensor grid_points = Tensor::from_vector(grid, {kGrid * kGrid, 2});
    const std::vector<float> grid_class = (*model)(grid_points).argmax(1).to_vector();

    const char* region_color[2] = {"#c6dbef", "#fdd0a2"};
    const char* point_color[2] = {"#1f5f9f", "#c2410c"};
    std::vector<svg::Series> series;
    for (int c = 0; c < 2; ++c) series.push_back(dots("", region_color[c], 3.2));
    for (int64_t k = 0; k < kGrid * kGrid; ++k) {
      svg::Series& s = series[static_cast<size_t>(grid_class[static_cast<size_t>(k)])];
      s.x.push_back(grid[static_cast<size_t>(2 * k)]);
      s.y.push_back(grid[static_cast<size_t>(2 * k + 1)]);
    }
    for (int c = 0; c < 2; ++c) series.push_back(dots(fmt::format("class {}", c), point_color[c], 2.5));
    const std::vector<float> xy = train.data().to_vector();
    const std::vector<float> target = train.targets().to_vector();
    for (size_t k = 0; k < target.size(); ++k) {
      svg::Series& s = series[2 + static_cast<size_t>(target[k])];
      s.x.push_back(xy[2 * k]);
      s.y.push_back(xy[2 * k + 1]);
    }
    const svg::Chart chart{.title = fmt::format("Two spirals: decision regions after {} Adam steps", steps),
                           .x = {.label = "x0", .lo = kLo, .hi = kHi},
                           .y = {.label = "x1", .lo = kLo, .hi = kHi},
                           .width = 640,
                           .height = 560};
    svg::write_file(out, svg::scatter(chart, series));
    fmt::print("grid points per class: {} {}\n", series[0].x.size(), series[1].x.size());
    fmt::print("wrote {}\n", out);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
