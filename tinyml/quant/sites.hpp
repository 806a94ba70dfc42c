// Sites: where the modules of one type hang in a module tree, so that each can be replaced in its parent.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tinyml/nn/module.hpp"

namespace tinyml::quant {

// A module of the tree and where it hangs: replacing `child_name` in `parent` replaces it.
struct Site {
  std::string name;  // dotted, as in named_modules()
  nn::Module* parent = nullptr;
  std::string child_name;  // its name inside the parent
  nn::ModulePtr module;
  std::string relu_child;  // the name of a ReLU right after it in a Sequential parent, or ""

  // The module as the type its sites were collected for (see sites_of).
  template <class T>
  std::shared_ptr<T> as() const {
    return std::static_pointer_cast<T>(module);
  }
};

// Decides which modules are sites.
using SiteFilter = bool (*)(const nn::Module&);

// Appends the sites below `m` (whose dotted name is `prefix`, "" for the root) to `sites`: depth
// first, pre-order, each module once (`seen` holds those already visited), so in the order and
// with the names of named_modules(). Nothing below a site is collected (a QatLinear's fake
// quantizers are its own business).
void collect(nn::Module& m, const std::string& prefix, SiteFilter is_site, std::vector<Site>& sites,
             std::set<const nn::Module*>& seen);

// Every module of type T below `model` (not the model itself), as collect finds them.
template <class T>
std::vector<Site> sites_of(nn::Module& model) {
  std::vector<Site> sites;
  std::set<const nn::Module*> seen{&model};
  collect(
      model, "", [](const nn::Module& m) { return dynamic_cast<const T*>(&m) != nullptr; }, sites, seen);
  return sites;
}

// The names of the sites that `skip` selects: "first", "last", a site's name, or a container's
// name (every site inside it). An entry that selects nothing throws an Error that names `fn`, the
// entry and every site. `sites` must not be empty.
std::set<std::string> resolve_skip(const std::vector<std::string>& skip, const std::vector<Site>& sites,
                                   const char* fn);

}  // namespace tinyml::quant
