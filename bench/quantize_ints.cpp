// Prints tinyml's quantized integers for the tensors on standard input, for bench/check_rounding.py.
//
// Each input line is `signed x1 x2 ... xn` (signed: 0 for uint8 affine, 1 for int8 affine); each
// output line is `scale zero_point q1 ... qn` with the qparams of choose_qparams (the tensor's own
// min/max), the integers of QTensor::quantize, then `fq1 ... fqn`, fake_quantize's values, on the
// next line. Floats are printed with 9 significant digits, which round-trip a float32 exactly.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"

int main() {
  using namespace tinyml;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    int is_signed = 0;
    in >> is_signed;
    std::vector<float> x;
    for (float v; in >> v;) x.push_back(v);
    const quant::QuantSpec spec{8, quant::Scheme::Affine, quant::Granularity::PerTensor, 0, is_signed != 0};
    const Tensor t = Tensor::from_vector(x, {static_cast<int64_t>(x.size())});
    const quant::QParams qp = quant::choose_qparams(t, spec);
    std::printf("%.9g %d", static_cast<double>(qp.scale[0]), qp.zero_point[0]);
    for (const int32_t q : quant::QTensor::quantize(t, qp).values()) std::printf(" %d", q);
    std::printf("\n");
    for (const float v : quant::fake_quantize(t, qp).to_vector())
      std::printf("%.9g ", static_cast<double>(v));
    std::printf("\n");
  }
  return 0;
}
