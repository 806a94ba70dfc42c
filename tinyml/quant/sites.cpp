#include "tinyml/quant/sites.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tinyml/core/error.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/sequential.hpp"

namespace tinyml::quant {

void collect(nn::Module& m, const std::string& prefix, SiteFilter is_site, std::vector<Site>& sites,
             std::set<const nn::Module*>& seen) {
  // BEGIN SOLUTION 08: collect: every site of the tree with its parent and name, depth first, each once
  const auto children = m.named_children();  // a copy: the tree is not changed here, but stay safe
  const bool sequential = dynamic_cast<nn::Sequential*>(&m) != nullptr;
  for (size_t i = 0; i < children.size(); ++i) {
    const auto& [child_name, child] = children[i];
    if (!seen.insert(child.get()).second) continue;
    const std::string name = prefix.empty() ? child_name : prefix + "." + child_name;
    if (is_site(*child)) {
      Site s{name, &m, child_name, child, ""};
      if (sequential && i + 1 < children.size() &&
          dynamic_cast<nn::ReLU*>(children[i + 1].second.get()) != nullptr)
        s.relu_child = children[i + 1].first;
      sites.push_back(std::move(s));
      continue;
    }
    collect(*child, name, is_site, sites, seen);
  }
  // END SOLUTION
}

std::set<std::string> resolve_skip(const std::vector<std::string>& skip, const std::vector<Site>& sites,
                                   const char* fn) {
  std::set<std::string> out;
  std::vector<std::string> names;
  for (const Site& s : sites) names.push_back(s.name);
  for (const std::string& k : skip) {
    if (k == "first" || k == "last") {
      out.insert(k == "first" ? sites.front().name : sites.back().name);
      continue;
    }
    bool matched = false;
    for (const Site& s : sites)
      if (s.name == k || s.name.rfind(k + ".", 0) == 0) {
        out.insert(s.name);
        matched = true;
      }
    TINYML_CHECK(matched,
                 "{}: skip entry '{}' matches no Linear layer; the Linear layers are [{}] (or use 'first' / "
                 "'last', or the name of a container to skip every Linear inside it)",
                 fn, k, fmt::join(names, ", "));
  }
  return out;
}

}  // namespace tinyml::quant
