// The layering rule of docs/architecture.md, checked: a file under tinyml/<layer>/ includes only
// its own layer and the layers above it in the doc's table. The doc is the source: its table is
// parsed here, so the rule and its statement cannot drift apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = TINYML_SOURCE_DIR;

// The layers in the order of the table of docs/architecture.md: its rows "| `core/` | ...".
std::vector<std::string> layer_order() {
  std::ifstream in(kRoot / "docs" / "architecture.md");
  const std::regex row(R"(^\| `([a-z_]+)/` \|)");
  std::vector<std::string> order;
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, row)) order.push_back(m[1]);
  return order;
}

// Every "tinyml/<layer>/..." include of `file`, as (line number, layer).
std::vector<std::pair<int, std::string>> tinyml_includes(const fs::path& file) {
  std::ifstream in(file);
  const std::regex include(R"(^\s*#\s*include\s*[<"]tinyml/([a-z_]+)/)");
  std::vector<std::pair<int, std::string>> out;
  std::string line;
  std::smatch m;
  for (int n = 1; std::getline(in, line); ++n)
    if (std::regex_search(line, m, include)) out.emplace_back(n, m[1]);
  return out;
}

}  // namespace

TEST(Layering, TheDocStatesEveryLayerOnce) {
  const std::vector<std::string> order = layer_order();
  ASSERT_GE(order.size(), 9u) << "the layer table of docs/architecture.md was not found";
  EXPECT_EQ(order.front(), "core");
  const std::set<std::string> unique(order.begin(), order.end());
  EXPECT_EQ(unique.size(), order.size()) << "a layer is listed twice";
  for (const auto& entry : fs::directory_iterator(kRoot / "tinyml")) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(unique.count(name)) << "tinyml/" << name << "/ is not in the table of docs/architecture.md";
  }
}

TEST(Layering, NoIncludePointsUpTheTable) {
  const std::vector<std::string> order = layer_order();
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  std::vector<std::string> violations;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kRoot / "tinyml")) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || (p.extension() != ".hpp" && p.extension() != ".cpp")) continue;
    const std::string layer = fs::relative(p, kRoot / "tinyml").begin()->string();
    if (!rank.count(layer)) continue;  // reported by the test above
    ++files;
    for (const auto& [line, target] : tinyml_includes(p))
      if (!rank.count(target) || rank[target] > rank[layer])
        violations.push_back(fs::relative(p, kRoot).string() + ":" + std::to_string(line) + " (" + layer +
                             ") includes tinyml/" + target + "/");
  }
  EXPECT_GT(files, 50u);  // the walk found the library
  EXPECT_THAT(violations, ::testing::IsEmpty());
}

TEST(Layering, TheCheckSeesAnUpwardInclude) {
  // The include parser on a file that points up: the check above would report it.
  const fs::path probe = fs::temp_directory_path() / "tinyml_test_layering_probe.cpp";
  std::ofstream(probe) << "#include <vector>\n  #include \"tinyml/ops/ops.hpp\"\n#include \"local.hpp\"\n";
  const auto found = tinyml_includes(probe);
  fs::remove(probe);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].first, 2);
  EXPECT_EQ(found[0].second, "ops");
}
