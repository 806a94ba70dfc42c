#include "tinyml/io/json_limits.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "tinyml/core/error.hpp"

namespace tinyml::io {

namespace {

using json = nlohmann::json;

// A SAX handler: sees every event once, keeps one key set per open object. (nlohmann's parser
// callback, used before, rescans the parent container at every closing bracket: quadratic.)
class LimitChecker : public nlohmann::json_sax<json> {
 public:
  LimitChecker(const std::string& what, const JsonLimits& limits) : what_(what), limits_(limits) {}

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    TINYML_CHECK(frames_.back().keys.insert(k).second, "{} has the key '{}' twice", what_, k);
    count_entry();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // the parser that follows reports it
  }

 private:
  struct Frame {
    bool object;
    std::unordered_set<std::string> keys;
  };

  // An outermost-array item is an entry; object members are counted at their key.
  void count_entry() {
    if (frames_.size() == 1 && ++entries_ > limits_.max_entries)
      throw Error(
          fmt::format("{} has more than {} {}, the limit", what_, limits_.max_entries, limits_.entries));
  }
  bool value() {
    if (!frames_.empty() && !frames_.back().object) count_entry();
    return true;
  }
  bool open(bool object) {
    value();
    TINYML_CHECK(static_cast<int>(frames_.size()) < limits_.max_depth,
                 "{} nests arrays and objects more than {} deep", what_, limits_.max_depth);
    frames_.push_back(Frame{object, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }

  const std::string& what_;
  const JsonLimits& limits_;
  std::vector<Frame> frames_;
  size_t entries_ = 0;
};

}  // namespace

void check_json_limits(std::string_view text, const std::string& what, const JsonLimits& limits) {
  LimitChecker checker(what, limits);
  (void)json::sax_parse(text.begin(), text.end(), &checker, json::input_format_t::json, /*strict=*/true);
}

}  // namespace tinyml::io
