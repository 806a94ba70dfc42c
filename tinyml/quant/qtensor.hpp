// QTensor: quantized values in real integer storage (uint8/int8 bytes, packed int4) with shape and qparams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

// How the integers are stored, derived from the spec (qdtype_for):
//   bits 5..8 → one value per byte: UInt8 (unsigned range) or Int8 (signed, two's complement);
//   bits 2..4 → two values per byte: UInt4Packed / Int4Packed (a 2- or 3-bit value takes a nibble).
enum class QDtype { UInt8, Int8, UInt4Packed, Int4Packed };
QDtype qdtype_for(const QuantSpec& spec);
bool is_packed(QDtype dtype);
const char* to_string(QDtype dtype);  // "uint8", "int8", "uint4x2", "int4x2"

// Packed layout. The tensor is a stack of rows along its last dimension (a 0-d tensor is one row
// of one). Each row takes packed_row_bytes(L) = ceil(L / 2) bytes: element 2t sits in the low
// nibble of byte t, element 2t + 1 in its high nibble. A row of odd length leaves the high nibble
// of its last byte 0, so every row starts on a byte boundary and a row (a Linear weight's output
// channel) can be unpacked on its own. Signed nibbles are 4-bit two's complement (−8 = 0b1000).
int64_t packed_row_bytes(int64_t row_length);
// values.size() must be a multiple of row_length; each value in [−8, 7] (signed) or [0, 15].
std::vector<uint8_t> pack_int4(std::span<const int32_t> values, int64_t row_length, bool is_signed);
// The inverse: numel values from numel / row_length rows of packed_row_bytes(row_length) bytes.
std::vector<int32_t> unpack_int4(std::span<const uint8_t> bytes, int64_t numel, int64_t row_length,
                                 bool is_signed);
// The same values as unpack_int4, one byte each, written to out[0, numel): signed values as int8
// bit patterns, unsigned as 0..15. The fast path the integer GEMM uses to widen a packed weight;
// tested against unpack_int4, which is the specification.
void unpack_int4_bytes(std::span<const uint8_t> bytes, int64_t numel, int64_t row_length, bool is_signed,
                       uint8_t* out);

class QTensor {
 public:
  QTensor() = default;  // undefined; defined() is false

  // Chooses qparams from x's own min/max (choose_qparams), then quantizes.
  static QTensor quantize(const Tensor& x, const QuantSpec& spec);
  // With given qparams (e.g. from calibration): q = clamp(round_half_even(x·(1/s)) + z, qmin, qmax).
  static QTensor quantize(const Tensor& x, const QParams& qp);
  // From integer values already quantized (e.g. read from a file); each must lie in [qmin, qmax].
  static QTensor from_values(std::span<const int32_t> values, const Shape& shape, const QParams& qp);
  // From storage bytes in this class's layout (raw() of another QTensor, or a file); the byte count
  // and every value's range are checked.
  static QTensor from_raw(std::vector<uint8_t> bytes, const Shape& shape, const QParams& qp);

  // x̂ = s · (q − z), per tensor or per channel.
  Tensor dequantize() const;
  // The integer at a row-major flat index, bounds-checked.
  int32_t value_at(int64_t flat_index) const;
  // All integers in row-major order.
  std::vector<int32_t> values() const;

  bool defined() const { return !qparams_.scale.empty(); }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return numel_of(shape_); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  const QParams& qparams() const { return qparams_; }
  const QuantSpec& spec() const { return qparams_.spec; }
  QDtype dtype() const { return dtype_; }

  // Bytes of integer storage actually allocated: numel for 8-bit types, rows · ceil(L/2) packed.
  size_t storage_bytes() const { return bytes_.size(); }
  // What the tensor really holds: storage_bytes() plus its qparams (4-byte float scale and 4-byte
  // int32 zero point per tensor or per channel). Shape and spec are bookkeeping and not counted.
  size_t nbytes() const;
  // The storage bytes, in the layout described above (int8 values as int8_t bit patterns).
  const uint8_t* raw() const { return bytes_.data(); }
  std::span<const uint8_t> bytes() const { return bytes_; }
  int64_t row_length() const { return shape_.empty() ? 1 : shape_.back(); }

 private:
  QTensor(std::vector<uint8_t> bytes, Shape shape, QParams qp);

  std::vector<uint8_t> bytes_;
  Shape shape_;
  QParams qparams_;
  QDtype dtype_ = QDtype::UInt8;
};

// The quantized matrix product through the integer kernel: a (M×K) quantized per tensor,
// b (K×N) per tensor or per channel along axis 1 (N). Computes
//   y[i][j] = s_a · s_b[j] · Σ_k (qa − za)(qb − zb[j])
// with Σ qa·qb in oneDNN's int8 GEMM and the zero points applied afterwards (Jacob et al. 2018).
// Any bit width works (narrower values are widened to 8-bit operands); uint8 b is shifted to
// int8 (q − 128, z − 128), which leaves every difference q − z unchanged. K <= 33025.
Tensor matmul(const QTensor& a, const QTensor& b);
// a · bᵀ with b (N×K) per tensor or per channel along axis 0: the layout of a Linear weight
// (out, in), whose per-output-channel qparams are then per column of the result.
Tensor matmul_nt(const QTensor& a, const QTensor& b);

}  // namespace tinyml::quant
