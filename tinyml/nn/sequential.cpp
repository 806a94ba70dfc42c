#include "tinyml/nn/sequential.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define TINYML_HAVE_CXXABI 1
#endif

namespace tinyml::nn {

std::string detail::demangle(const char* mangled) {
#ifdef TINYML_HAVE_CXXABI
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> readable(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                  std::free);
  if (status == 0 && readable) return readable.get();
#endif
  return mangled;
}

Sequential::Sequential(std::initializer_list<ModulePtr> modules) {
  for (const auto& m : modules) push_back(m);
}

Sequential::Sequential(const std::vector<ModulePtr>& modules) {
  for (const auto& m : modules) push_back(m);
}

Sequential::Sequential(const std::vector<std::pair<std::string, ModulePtr>>& named_modules) {
  for (const auto& [name, m] : named_modules) push_back(name, m);
}

namespace detail {

// Runs one child of a Sequential. An Error from inside it (whatever its type: a course TODO stays a
// NotImplemented) leaves with the child's name and type added (Error::add_module), so that in a
// deep chain the message says which layer got the wrong shape: "Sequential::forward: module '2'
// (Linear): Linear::forward: ...", and "module 'head.0'" through nested Sequentials.
Tensor call_child(const std::string& name, Module& child, const Tensor& x) {
  try {
    return child(x);
  } catch (Error& e) {
    e.add_module("Sequential::forward", name, child.type_name());
    throw;
  }
}

}  // namespace detail

Tensor Sequential::forward(const Tensor& input) {
  // BEGIN SOLUTION 03: Sequential::forward: each child in order, called with operator()
  Tensor x = input;
  for (const auto& [name, child] : named_children()) x = detail::call_child(name, *child, x);
  return x;
  // END SOLUTION
}

void Sequential::push_back(ModulePtr module) { push_back(std::to_string(size()), std::move(module)); }

void Sequential::push_back(const std::string& name, ModulePtr module) {
  TINYML_CHECK(module != nullptr, "Sequential::push_back: module '{}' is null", name);
  add_child(name, std::move(module));
}

size_t Sequential::checked_index(int64_t index, const char* fn) const {
  const auto n = static_cast<int64_t>(size());
  TINYML_CHECK(index >= -n && index < n, "{}: index {} is out of range for a Sequential of {} modules", fn,
               index, n);
  return static_cast<size_t>(index < 0 ? index + n : index);
}

ModulePtr Sequential::operator[](int64_t index) const {
  return named_children()[checked_index(index, "Sequential::operator[]")].second;
}

const std::string& Sequential::name_at(int64_t index) const {
  return named_children()[checked_index(index, "Sequential::name_at")].first;
}

ModulePtr Sequential::get(const std::string& name) const {
  const auto& kids = named_children();
  auto it = std::find_if(kids.begin(), kids.end(), [&](const auto& e) { return e.first == name; });
  TINYML_CHECK(it != kids.end(), "Sequential::get: no module named '{}' among {} modules", name, kids.size());
  return it->second;
}

void Sequential::replace(int64_t index, ModulePtr module) {
  const size_t i = checked_index(index, "Sequential::replace");
  TINYML_CHECK(module != nullptr, "Sequential::replace: the module for index {} is null", index);
  replace_module(named_children()[i].first, std::move(module));
}

}  // namespace tinyml::nn
