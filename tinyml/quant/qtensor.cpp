#include "tinyml/quant/qtensor.hpp"

#include <algorithm>
#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/kernels/qgemm.hpp"

namespace tinyml::quant {

namespace {

int64_t row_length_of(const Shape& shape) { return shape.empty() ? 1 : shape.back(); }

size_t storage_bytes_for(const Shape& shape, QDtype dtype) {
  const int64_t n = numel_of(shape);
  if (!is_packed(dtype) || n == 0) return static_cast<size_t>(n);
  const int64_t L = row_length_of(shape);
  return static_cast<size_t>((n / L) * packed_row_bytes(L));
}

// Storage bytes from integers already inside [qmin, qmax] (a byte keeps the low 8 bits, which for
// a negative value is its two's complement pattern).
std::vector<uint8_t> encode(std::span<const int32_t> q, const Shape& shape, QDtype dtype) {
  if (is_packed(dtype)) return pack_int4(q, row_length_of(shape), dtype == QDtype::Int4Packed);
  std::vector<uint8_t> bytes(q.size());
  std::transform(q.begin(), q.end(), bytes.begin(), [](int32_t v) { return static_cast<uint8_t>(v); });
  return bytes;
}

void check_in_range(std::span<const int32_t> q, const QuantSpec& spec, const char* fn) {
  const int32_t lo = spec.qmin(), hi = spec.qmax();
  for (size_t t = 0; t < q.size(); ++t)
    TINYML_CHECK(q[t] >= lo && q[t] <= hi, "{}: value {} at flat index {} outside [{}, {}] of {}", fn, q[t],
                 t, lo, hi, spec.to_string());
}

// Narrowest 8-bit operands for the integer kernel. A is uint8 (u8s8 kernel) or int8 (s8s8); B is
// always int8, so uint8 storage is shifted by −128 together with its zero points.
struct OperandA {
  bool is_unsigned = true;
  std::vector<uint8_t> widened;  // only when the storage is packed
  const uint8_t* data = nullptr;
};

OperandA prepare_a(const QTensor& a) {
  OperandA op;
  op.is_unsigned = !a.spec().signed_range();
  if (is_packed(a.dtype())) {
    const std::vector<int32_t> v = a.values();
    op.widened.resize(v.size());
    std::transform(v.begin(), v.end(), op.widened.begin(), [](int32_t x) { return static_cast<uint8_t>(x); });
    op.data = op.widened.data();
  } else {
    op.data = a.raw();
  }
  return op;
}

struct OperandB {
  std::vector<int8_t> widened;
  const int8_t* data = nullptr;
  std::vector<int32_t> zero_point;
};

OperandB prepare_b(const QTensor& b) {
  OperandB op;
  op.zero_point = b.qparams().zero_point;
  if (b.dtype() == QDtype::Int8) {
    op.data = reinterpret_cast<const int8_t*>(b.raw());  // int8 values are stored as their bit patterns
    return op;
  }
  if (b.dtype() == QDtype::UInt8) {
    // (q − 128) − (z − 128) = q − z: the products are unchanged and every value now fits int8.
    const std::span<const uint8_t> raw = b.bytes();
    op.widened.resize(raw.size());
    std::transform(raw.begin(), raw.end(), op.widened.begin(),
                   [](uint8_t q) { return static_cast<int8_t>(static_cast<int32_t>(q) - 128); });
    for (auto& z : op.zero_point) z -= 128;
  } else {  // packed: 4-bit values fit int8 as they are
    const std::vector<int32_t> v = b.values();
    op.widened.resize(v.size());
    std::transform(v.begin(), v.end(), op.widened.begin(), [](int32_t x) { return static_cast<int8_t>(x); });
  }
  op.data = op.widened.data();
  return op;
}

// y = a · op(b); trans_b: b is N×K with per-channel qparams along axis 0, else K×N along axis 1.
Tensor quantized_matmul(const QTensor& a, const QTensor& b, bool trans_b, const char* fn) {
  TINYML_CHECK(a.defined() && b.defined(), "{}: got an undefined QTensor", fn);
  TINYML_CHECK(a.dim() == 2 && b.dim() == 2, "{}: needs 2-D operands, got shapes {} and {}", fn,
               shape_str(a.shape()), shape_str(b.shape()));
  const int64_t M = a.size(0), K = a.size(1);
  const int64_t N = trans_b ? b.size(0) : b.size(1);
  const int64_t Kb = trans_b ? b.size(1) : b.size(0);
  TINYML_CHECK(K == Kb, "{}: inner dimensions differ: a has shape {} and b has shape {} ({})", fn,
               shape_str(a.shape()), shape_str(b.shape()),
               trans_b ? "expected b as (N, K), a Linear weight" : "expected b as (K, N)");
  TINYML_CHECK(!a.qparams().per_channel(),
               "{}: a must be quantized per tensor (a per-channel scale along K cannot be factored out "
               "of the sum), got {}",
               fn, a.spec().to_string());
  if (b.qparams().per_channel()) {
    const int64_t want = trans_b ? 0 : 1;
    const int64_t axis = channel_layout(b.shape(), b.spec(), fn).axis;
    TINYML_CHECK(axis == want,
                 "{}: b of shape {} is per-channel along axis {}; only axis {} (the output columns) can be "
                 "factored out of the sum",
                 fn, shape_str(b.shape()), axis, want);
  }
  TINYML_CHECK(K <= kernels::kQgemmMaxK_zero_point,
               "{}: K={} (shapes {} and {}) exceeds {}, past which int32 sums can overflow", fn, K,
               shape_str(a.shape()), shape_str(b.shape()), kernels::kQgemmMaxK_zero_point);

  const OperandA A = prepare_a(a);
  const OperandB B = prepare_b(b);
  const int32_t za = a.qparams().zero_point[0];
  const int64_t ldb = trans_b ? K : N;
  std::vector<int32_t> acc(static_cast<size_t>(M * N));
  if (M > 0 && N > 0) {
    if (A.is_unsigned)
      kernels::qgemm_zp_u8s8(M, N, K, A.data, std::max<int64_t>(K, 1), za, B.data, std::max<int64_t>(ldb, 1),
                             trans_b, B.zero_point, acc.data(), N);
    else
      kernels::qgemm_zp_s8s8(M, N, K, reinterpret_cast<const int8_t*>(A.data), std::max<int64_t>(K, 1), za,
                             B.data, std::max<int64_t>(ldb, 1), trans_b, B.zero_point, acc.data(), N);
  }

  Tensor y = Tensor::empty({M, N});
  float* out = y.data();
  const float sa = a.qparams().scale[0];
  const std::vector<float>& sb = b.qparams().scale;
  std::vector<float> col_scale(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j)
    col_scale[static_cast<size_t>(j)] = sa * sb[sb.size() == 1 ? 0 : static_cast<size_t>(j)];
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      out[i * N + j] =
          col_scale[static_cast<size_t>(j)] * static_cast<float>(acc[static_cast<size_t>(i * N + j)]);
  return y;
}

}  // namespace

// ---- dtype and int4 packing ----

QDtype qdtype_for(const QuantSpec& spec) {
  spec.validate("qdtype_for");
  if (spec.bits <= 4) return spec.signed_range() ? QDtype::Int4Packed : QDtype::UInt4Packed;
  return spec.signed_range() ? QDtype::Int8 : QDtype::UInt8;
}

bool is_packed(QDtype dtype) { return dtype == QDtype::Int4Packed || dtype == QDtype::UInt4Packed; }

const char* to_string(QDtype dtype) {
  switch (dtype) {
    case QDtype::UInt8:
      return "uint8";
    case QDtype::Int8:
      return "int8";
    case QDtype::UInt4Packed:
      return "uint4x2";
    case QDtype::Int4Packed:
      return "int4x2";
  }
  return "unknown";
}

int64_t packed_row_bytes(int64_t row_length) {
  TINYML_CHECK(row_length >= 0, "packed_row_bytes: negative row length {}", row_length);
  // Not (L + 1) / 2, which overflows for L = INT64_MAX (a length read from a file).
  return row_length / 2 + row_length % 2;
}

std::vector<uint8_t> pack_int4(std::span<const int32_t> values, int64_t row_length, bool is_signed) {
  // BEGIN SOLUTION 08: pack_int4: two values per byte (low nibble first), each row starting on a byte
  constexpr const char* fn = "pack_int4";
  const auto n = static_cast<int64_t>(values.size());
  TINYML_CHECK(row_length > 0 || n == 0, "{}: row length must be > 0, got {}", fn, row_length);
  if (n == 0) return {};
  TINYML_CHECK(n % row_length == 0, "{}: {} values do not split into rows of {}", fn, n, row_length);
  const int32_t lo = is_signed ? -8 : 0, hi = is_signed ? 7 : 15;
  const int64_t rows = n / row_length, rb = packed_row_bytes(row_length);
  std::vector<uint8_t> out(static_cast<size_t>(rows * rb), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < row_length; ++c) {
      const int32_t v = values[static_cast<size_t>(r * row_length + c)];
      TINYML_CHECK(v >= lo && v <= hi, "{}: value {} at flat index {} outside [{}, {}] ({})", fn, v,
                   r * row_length + c, lo, hi, is_signed ? "signed" : "unsigned");
      const auto nibble = static_cast<uint8_t>(v & 0xF);
      out[static_cast<size_t>(r * rb + c / 2)] |= static_cast<uint8_t>(c % 2 == 0 ? nibble : nibble << 4);
    }
  return out;
  // END SOLUTION
}

std::vector<int32_t> unpack_int4(std::span<const uint8_t> bytes, int64_t numel, int64_t row_length,
                                 bool is_signed) {
  // BEGIN SOLUTION 08: unpack_int4: the inverse of pack_int4 (signed nibbles are two's complement)
  constexpr const char* fn = "unpack_int4";
  TINYML_CHECK(numel >= 0, "{}: negative numel {}", fn, numel);
  if (numel == 0) {
    TINYML_CHECK(bytes.empty(), "{}: {} bytes for 0 values", fn, bytes.size());
    return {};
  }
  TINYML_CHECK(row_length > 0 && numel % row_length == 0, "{}: {} values do not split into rows of {}", fn,
               numel, row_length);
  const int64_t rows = numel / row_length, rb = packed_row_bytes(row_length);
  TINYML_CHECK(static_cast<int64_t>(bytes.size()) == rows * rb,
               "{}: {} rows of {} values need {} bytes, got {}", fn, rows, row_length, rows * rb,
               bytes.size());
  std::vector<int32_t> out(static_cast<size_t>(numel));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < row_length; ++c) {
      const uint8_t byte = bytes[static_cast<size_t>(r * rb + c / 2)];
      const int32_t nibble = c % 2 == 0 ? (byte & 0xF) : (byte >> 4);
      out[static_cast<size_t>(r * row_length + c)] = is_signed && nibble >= 8 ? nibble - 16 : nibble;
    }
  return out;
  // END SOLUTION
}

void unpack_int4_bytes(std::span<const uint8_t> bytes, int64_t numel, int64_t row_length, bool is_signed,
                       uint8_t* out) {
  // BEGIN SOLUTION 08: unpack_int4_bytes: unpack_int4 into one byte per value (may call unpack_int4)
  constexpr const char* fn = "unpack_int4_bytes";
  TINYML_CHECK(numel >= 0, "{}: negative numel {}", fn, numel);
  if (numel == 0) return;
  TINYML_CHECK(row_length > 0 && numel % row_length == 0, "{}: {} values do not split into rows of {}", fn,
               numel, row_length);
  const int64_t rows = numel / row_length, rb = packed_row_bytes(row_length);
  TINYML_CHECK(static_cast<int64_t>(bytes.size()) == rows * rb,
               "{}: {} rows of {} values need {} bytes, got {}", fn, rows, row_length, rows * rb,
               bytes.size());
  TINYML_CHECK(out != nullptr, "{}: out is null for {} values", fn, numel);
  // (v ^ 8) − 8 reads a nibble as 4-bit two's complement without a branch; the low nibble is
  // the even element. Plain byte arithmetic, so the compiler vectorizes the pair loop.
  const auto flip = static_cast<uint8_t>(is_signed ? 8 : 0);
  const int64_t pairs = row_length / 2;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* b = bytes.data() + r * rb;
    uint8_t* o = out + r * row_length;
    for (int64_t t = 0; t < pairs; ++t) {
      o[2 * t] = static_cast<uint8_t>(((b[t] & 0xF) ^ flip) - flip);
      o[2 * t + 1] = static_cast<uint8_t>(((b[t] >> 4) ^ flip) - flip);
    }
    if (row_length % 2 == 1) o[row_length - 1] = static_cast<uint8_t>(((b[pairs] & 0xF) ^ flip) - flip);
  }
  // END SOLUTION
}

// ---- QTensor ----

QTensor::QTensor(std::vector<uint8_t> bytes, Shape shape, QParams qp)
    : bytes_(std::move(bytes)),
      shape_(std::move(shape)),
      qparams_(std::move(qp)),
      dtype_(qdtype_for(qparams_.spec)) {}

QTensor QTensor::quantize(const Tensor& x, const QuantSpec& spec) {
  return quantize(x, choose_qparams(x, spec));
}

QTensor QTensor::quantize(const Tensor& x, const QParams& qp) {
  detail::check_no_nan(x, "QTensor::quantize");
  // BEGIN SOLUTION 08: QTensor::quantize: each element with its channel's scale and zero point
  constexpr const char* fn = "QTensor::quantize";
  TINYML_CHECK(x.defined(), "{}: got an undefined tensor", fn);
  validate_qparams(qp, x.shape(), fn);
  const ChannelLayout l = channel_layout(x.shape(), qp.spec, fn);
  const int32_t qmin = qp.spec.qmin(), qmax = qp.spec.qmax();
  const std::vector<float> v = x.to_vector();
  std::vector<int32_t> q(v.size());
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c) {
      const auto e = static_cast<size_t>(qp.per_channel() ? c : 0);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i)
        q[static_cast<size_t>(base + i)] =
            quantize_value(v[static_cast<size_t>(base + i)], qp.scale[e], qp.zero_point[e], qmin, qmax);
    }
  return QTensor(encode(q, x.shape(), qdtype_for(qp.spec)), x.shape(), qp);
  // END SOLUTION
}

QTensor QTensor::from_values(std::span<const int32_t> values, const Shape& shape, const QParams& qp) {
  constexpr const char* fn = "QTensor::from_values";
  validate_qparams(qp, shape, fn);
  TINYML_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape),
               "{}: {} values for shape {} ({} elements)", fn, values.size(), shape_str(shape),
               numel_of(shape));
  check_in_range(values, qp.spec, fn);
  return QTensor(encode(values, shape, qdtype_for(qp.spec)), shape, qp);
}

QTensor QTensor::from_raw(std::vector<uint8_t> bytes, const Shape& shape, const QParams& qp) {
  constexpr const char* fn = "QTensor::from_raw";
  validate_qparams(qp, shape, fn);
  const QDtype dtype = qdtype_for(qp.spec);
  const size_t want = storage_bytes_for(shape, dtype);
  TINYML_CHECK(bytes.size() == want, "{}: shape {} as {} needs {} bytes, got {}", fn, shape_str(shape),
               to_string(dtype), want, bytes.size());
  QTensor t(std::move(bytes), shape, qp);
  check_in_range(t.values(), qp.spec, fn);
  if (is_packed(dtype) && t.row_length() % 2 == 1) {
    // The padding nibble of every odd row must be 0, so that equal tensors have equal bytes.
    const int64_t rb = packed_row_bytes(t.row_length());
    for (size_t r = 0; r < t.bytes_.size() / static_cast<size_t>(rb); ++r)
      TINYML_CHECK((t.bytes_[(r + 1) * static_cast<size_t>(rb) - 1] >> 4) == 0,
                   "{}: row {} has a nonzero padding nibble", fn, r);
  }
  return t;
}

int64_t QTensor::size(int64_t d) const {
  const int64_t n = dim();
  TINYML_CHECK(d >= -n && d < n, "QTensor::size: dimension {} out of range for shape {}", d,
               shape_str(shape_));
  return shape_[static_cast<size_t>(d < 0 ? d + n : d)];
}

std::vector<int32_t> QTensor::values() const {
  if (is_packed(dtype_)) return unpack_int4(bytes_, numel(), row_length(), dtype_ == QDtype::Int4Packed);
  std::vector<int32_t> out(bytes_.size());
  if (dtype_ == QDtype::Int8)
    std::transform(bytes_.begin(), bytes_.end(), out.begin(),
                   [](uint8_t b) { return static_cast<int32_t>(static_cast<int8_t>(b)); });
  else
    std::transform(bytes_.begin(), bytes_.end(), out.begin(),
                   [](uint8_t b) { return static_cast<int32_t>(b); });
  return out;
}

int32_t QTensor::value_at(int64_t flat_index) const {
  TINYML_CHECK(defined(), "QTensor::value_at: undefined QTensor");
  TINYML_CHECK(flat_index >= 0 && flat_index < numel(),
               "QTensor::value_at: index {} out of range for shape {} ({} elements)", flat_index,
               shape_str(shape_), numel());
  switch (dtype_) {
    case QDtype::UInt8:
      return bytes_[static_cast<size_t>(flat_index)];
    case QDtype::Int8:
      return static_cast<int8_t>(bytes_[static_cast<size_t>(flat_index)]);
    case QDtype::UInt4Packed:
    case QDtype::Int4Packed:
      break;
  }
  const int64_t L = row_length(), r = flat_index / L, c = flat_index % L;
  const uint8_t byte = bytes_[static_cast<size_t>(r * packed_row_bytes(L) + c / 2)];
  const int32_t nibble = c % 2 == 0 ? (byte & 0xF) : (byte >> 4);
  return dtype_ == QDtype::Int4Packed && nibble >= 8 ? nibble - 16 : nibble;
}

Tensor QTensor::dequantize() const {
  // BEGIN SOLUTION 08: QTensor::dequantize: s * (q - z) per element, per tensor or per channel
  constexpr const char* fn = "QTensor::dequantize";
  TINYML_CHECK(defined(), "{}: undefined QTensor", fn);
  const ChannelLayout l = channel_layout(shape_, qparams_.spec, fn);
  const std::vector<int32_t> q = values();
  std::vector<float> out(q.size());
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c) {
      const auto e = static_cast<size_t>(qparams_.per_channel() ? c : 0);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i)
        out[static_cast<size_t>(base + i)] =
            dequantize_value(q[static_cast<size_t>(base + i)], qparams_.scale[e], qparams_.zero_point[e]);
    }
  return Tensor::from_vector(out, shape_);
  // END SOLUTION
}

size_t QTensor::nbytes() const {
  return storage_bytes() + qparams_.scale.size() * sizeof(float) +
         qparams_.zero_point.size() * sizeof(int32_t);
}

Tensor matmul(const QTensor& a, const QTensor& b) { return quantized_matmul(a, b, false, "quant::matmul"); }

Tensor matmul_nt(const QTensor& a, const QTensor& b) {
  return quantized_matmul(a, b, true, "quant::matmul_nt");
}

}  // namespace tinyml::quant
