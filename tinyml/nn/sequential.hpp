// Sequential: a chain of modules run in order, addressable by index and by name.
#pragma once

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "tinyml/nn/module.hpp"

namespace tinyml::nn {

namespace detail {
// Readable type name for error messages ("tinyml::nn::Linear" rather than the mangled form).
std::string demangle(const char* mangled);
}  // namespace detail

// Children are named "0", "1", ... unless given a name. forward() calls each child through
// operator(), so the children's hooks fire.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<ModulePtr> modules);
  explicit Sequential(const std::vector<ModulePtr>& modules);
  explicit Sequential(const std::vector<std::pair<std::string, ModulePtr>>& named_modules);
  // Lets std::make_shared<Sequential>(std::make_shared<Linear>(2, 4), std::make_shared<ReLU>())
  // work: make_shared cannot forward a braced list.
  template <std::derived_from<Module>... Ms>
  explicit Sequential(std::shared_ptr<Ms>... modules) {
    (push_back(ModulePtr(std::move(modules))), ...);
  }

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Sequential"; }

  void push_back(ModulePtr module);
  void push_back(const std::string& name, ModulePtr module);
  size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }

  // Negative indices count from the end, as in Python.
  ModulePtr operator[](int64_t index) const;
  // The child at `index` as a T; throws if it is some other type.
  template <class T>
  std::shared_ptr<T> at(int64_t index) const {
    ModulePtr m = (*this)[index];
    auto typed = std::dynamic_pointer_cast<T>(m);
    TINYML_CHECK(typed != nullptr, "Sequential::at: child {} is a {}, not a {}", index, m->type_name(),
                 detail::demangle(typeid(T).name()));
    return typed;
  }
  ModulePtr get(const std::string& name) const;
  // Puts `module` in place of the child at `index`, keeping its name.
  void replace(int64_t index, ModulePtr module);
  // The name of the child at `index`.
  const std::string& name_at(int64_t index) const;

 private:
  size_t checked_index(int64_t index, const char* fn) const;
};

}  // namespace tinyml::nn
