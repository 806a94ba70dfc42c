// Helpers for the course's step tests: error checks that tell an unwritten TODO from a real error.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/tensor.hpp"

namespace course {

// Runs f, which must throw tinyml::Error with a message that mentions every string in `parts`.
// tinyml::NotImplemented derives from tinyml::Error, so it is caught first and reported as a
// TODO: a stub must never pass a test that expects a real error.
template <class F>
::testing::AssertionResult throws_error(F&& f, std::initializer_list<std::string_view> parts) {
  try {
    f();
  } catch (const tinyml::NotImplemented& e) {
    return ::testing::AssertionFailure() << "not implemented yet: " << e.what();
  } catch (const tinyml::Error& e) {
    const std::string msg = e.what();
    for (std::string_view p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the error message\n  \"" << msg << "\"\ndoes not mention \""
                                             << p << "\" (messages name the function and the values it got)";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw a std::exception that is not a tinyml::Error: " << e.what();
  }
  return ::testing::AssertionFailure() << "no exception was thrown";
}

// Expected values with a tolerance per element, and a message naming the first mismatch.
inline ::testing::AssertionResult tensor_near(const tinyml::Tensor& got, const tinyml::Shape& shape,
                                              const std::vector<float>& want, float tol) {
  if (!got.defined()) return ::testing::AssertionFailure() << "the tensor is undefined";
  if (got.shape() != shape)
    return ::testing::AssertionFailure()
           << "shape " << tinyml::shape_str(got.shape()) << ", expected " << tinyml::shape_str(shape);
  const std::vector<float> v = got.to_vector();
  for (size_t i = 0; i < v.size(); ++i)
    if (!(std::abs(v[i] - want[i]) <= tol))
      return ::testing::AssertionFailure()
             << "element " << i << " is " << v[i] << ", expected " << want[i] << " (tolerance " << tol << ")";
  return ::testing::AssertionSuccess();
}

}  // namespace course

// EXPECT_TINYML_ERROR(f(x), "f:", "[2, 3]") — the statement throws tinyml::Error naming these.
#define EXPECT_TINYML_ERROR(stmt, ...) \
  EXPECT_TRUE(::course::throws_error([&] { static_cast<void>(stmt); }, {__VA_ARGS__}))
