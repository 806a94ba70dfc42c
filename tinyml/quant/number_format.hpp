// Number formats: IEEE half and bfloat16 written out bit by bit, and fp32/fp16/bf16/int8/int4 round trips.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

// ---- IEEE 754 half precision and bfloat16, written out bit by bit ----
// float → binary16: round to nearest, ties to even; magnitudes from 65520 up (and ±Inf) become
// ±Inf (0x7C00); values below 2^-14 become subnormals (steps of 2^-24) and those up to 2^-25
// round to ±0; −0.0 keeps its sign (0x8000); NaN stays a (quiet) NaN with its sign.
uint16_t float_to_half_bits(float x);
// binary16 → float: exact (every half value is a float).
float half_bits_to_float(uint16_t h);
// float → bfloat16 (the top 16 bits of a float): round to nearest, ties to even; overflow past
// the largest bfloat16 (≈ 3.3895e38) gives ±Inf; subnormals round like any other value; NaN
// stays a quiet NaN with its sign.
uint16_t float_to_bfloat16_bits(float x);
// bfloat16 → float: exact (the bits shifted into the top half).
float bfloat16_bits_to_float(uint16_t b);

// ---- number formats ----
enum class NumberFormat { FP32, FP16, BF16, INT8, INT4 };
const char* to_string(NumberFormat f);  // "fp32", "fp16", "bf16", "int8", "int4"
// The inverse of to_string; anything else throws, listing the names.
NumberFormat parse_number_format(const std::string& s);
// Bits per stored value: 32, 16, 16, 8, 4.
int bits_of(NumberFormat f);
// Whether f stores integers with a scale and zero point (INT8, INT4) rather than floats.
bool is_integer(NumberFormat f);

// How the integer formats store a tensor: `bits` bits, affine (a uint range from min/max), one scale
// and zero point per tensor.
QuantSpec per_tensor_affine(int bits);

// x stored in format f and read back as float. FP16/BF16: each value rounded as above. INT8/INT4:
// quantized per tensor with affine min/max qparams (choose_qparams, uint8 / uint4 range) and
// dequantized, so the error of a value inside the range is at most scale/2.
Tensor round_trip(const Tensor& x, NumberFormat f);
// The stored size of x in format f, in bytes, as QTensor / a 16-bit array would really hold it
// (INT formats include their scale and zero point; int4 is packed two values per byte).
size_t stored_bytes(const Tensor& x, NumberFormat f);

// Throws tinyml::Error naming `fn` and `what` unless x is defined, non-empty and holds only finite
// values (the integer formats have no Inf or NaN; the analyses of precision.hpp need real numbers).
void check_finite(const Tensor& x, const char* fn, const char* what);

}  // namespace tinyml::quant
