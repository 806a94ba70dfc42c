// ctest's JUnit output read back: a small XML reader, test results and the reason a test failed.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "course/course.hpp"

namespace tinyml::course {

// ---------------------------------------------------------------- a small XML reader for JUnit files

namespace {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;
  std::vector<XmlElement> children;

  std::string attribute(const std::string& key) const {
    for (const auto& [k, v] : attributes)
      if (k == key) return v;
    return {};
  }
  const XmlElement* child(const std::string& n) const {
    for (const auto& c : children)
      if (c.name == n) return &c;
    return nullptr;
  }
};

class XmlReader {
 public:
  explicit XmlReader(std::string_view s) : s_(s) {}

  XmlElement document() {
    skip_misc();
    XmlElement root = element();
    skip_misc();
    if (pos_ != s_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw CourseError(fmt::format("JUnit file: malformed XML at byte {}: {}", pos_, what));
  }
  bool starts(std::string_view t) const { return s_.substr(pos_, t.size()) == t; }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void skip_until(std::string_view end) {
    const size_t e = s_.find(end, pos_);
    if (e == std::string_view::npos) fail(fmt::format("missing '{}'", end));
    pos_ = e + end.size();
  }
  // Prolog, comments, processing instructions and doctype around elements.
  void skip_misc() {
    while (true) {
      skip_space();
      if (starts("<?"))
        skip_until("?>");
      else if (starts("<!--"))
        skip_until("-->");
      else if (starts("<!DOCTYPE"))
        skip_until(">");
      else
        return;
    }
  }
  std::string name() {
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || std::strchr("_:-.", s_[pos_])))
      ++pos_;
    if (pos_ == start) fail("expected a name");
    return std::string(s_.substr(start, pos_ - start));
  }
  static void append_utf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::string unescape(std::string_view raw) const {
    std::string out;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] != '&') {
        out += raw[k];
        continue;
      }
      const size_t semi = raw.find(';', k);
      if (semi == std::string_view::npos) {
        out += '&';
        continue;
      }
      const std::string_view ent = raw.substr(k + 1, semi - k - 1);
      if (ent == "amp")
        out += '&';
      else if (ent == "lt")
        out += '<';
      else if (ent == "gt")
        out += '>';
      else if (ent == "quot")
        out += '"';
      else if (ent == "apos")
        out += '\'';
      else if (!ent.empty() && ent[0] == '#') {
        const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
        append_utf8(out, std::strtoul(std::string(ent.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10));
      } else {
        out += raw.substr(k, semi - k + 1);  // unknown entity: keep as written
      }
      k = semi;
    }
    return out;
  }
  XmlElement element() {
    if (!starts("<")) fail("expected '<'");
    ++pos_;
    XmlElement e;
    e.name = name();
    while (true) {
      skip_space();
      if (starts("/>")) {
        pos_ += 2;
        return e;
      }
      if (starts(">")) {
        ++pos_;
        break;
      }
      std::string key = name();
      skip_space();
      if (!starts("=")) fail("expected '=' after attribute " + key);
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) fail("expected a quoted value");
      const char q = s_[pos_++];
      const size_t end = s_.find(q, pos_);
      if (end == std::string_view::npos) fail("unterminated attribute value");
      e.attributes.emplace_back(std::move(key), unescape(s_.substr(pos_, end - pos_)));
      pos_ = end + 1;
    }
    while (true) {  // content
      if (pos_ >= s_.size()) fail("element <" + e.name + "> is not closed");
      if (starts("</")) {
        pos_ += 2;
        if (name() != e.name) fail("mismatched closing tag for <" + e.name + ">");
        skip_space();
        if (!starts(">")) fail("expected '>'");
        ++pos_;
        return e;
      }
      if (starts("<!--")) {
        skip_until("-->");
      } else if (starts("<![CDATA[")) {
        pos_ += 9;
        const size_t end = s_.find("]]>", pos_);
        if (end == std::string_view::npos) fail("unterminated CDATA");
        e.text += s_.substr(pos_, end - pos_);
        pos_ = end + 3;
      } else if (starts("<?")) {
        skip_until("?>");
      } else if (starts("<")) {
        e.children.push_back(element());
      } else {
        const size_t end = s_.find('<', pos_);
        const size_t stop = end == std::string_view::npos ? s_.size() : end;
        e.text += unescape(s_.substr(pos_, stop - pos_));
        pos_ = stop;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string one_line(std::string s, size_t limit) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  if (out.size() > limit) out = out.substr(0, limit - 3) + "...";
  return out;
}

const char* to_string(TestStatus s) {
  switch (s) {
    case TestStatus::Passed:
      return "passed";
    case TestStatus::Failed:
      return "failed";
    case TestStatus::Skipped:
      return "skipped";
    case TestStatus::Disabled:
      return "disabled";
  }
  return "failed";
}

std::string failure_reason(std::string_view output) {
  // A course TODO not written yet ("TODO 02: ..."), whether it escaped the test or was caught by an
  // assertion that expected another error: the most useful thing to show a student.
  for (size_t at = output.find("TODO "); at != std::string_view::npos; at = output.find("TODO ", at + 5)) {
    if (at + 8 > output.size() || !std::isdigit(static_cast<unsigned char>(output[at + 5])) ||
        !std::isdigit(static_cast<unsigned char>(output[at + 6])) || output[at + 7] != ':')
      continue;
    const size_t eol = output.find('\n', at);
    std::string todo(output.substr(at, (eol == std::string_view::npos ? output.size() : eol) - at));
    // Drop what the enclosing gtest message adds after it: `" thrown in ...` or a closing parenthesis.
    if (const size_t q = todo.find("\" thrown in"); q != std::string::npos) todo.resize(q);
    if (!todo.empty() && todo.back() == ')' &&
        std::count(todo.begin(), todo.end(), ')') > std::count(todo.begin(), todo.end(), '('))
      todo.pop_back();
    return one_line(todo);
  }
  // An exception that escaped the test body.
  constexpr std::string_view exc = "C++ exception with description \"";
  if (const size_t at = output.find(exc); at != std::string_view::npos) {
    const size_t start = at + exc.size();
    const size_t end = output.find("\" thrown in", start);
    if (end != std::string_view::npos) return one_line(std::string(output.substr(start, end - start)));
  }
  // The first assertion failure: the lines after "file:line: Failure" up to a blank line.
  std::istringstream in{std::string(output)};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    for (std::string_view tag : {": Failure", ": Skipped"}) {
      if (l.size() >= tag.size() && l.compare(l.size() - tag.size(), tag.size(), tag) == 0) {
        std::string where = l.substr(0, l.size() - tag.size());
        if (const size_t slash = where.find_last_of('/'); slash != std::string::npos)
          where = where.substr(slash + 1);
        std::string msg;
        for (size_t k = i + 1; k < lines.size() && !lines[k].empty() && lines[k][0] != '['; ++k)
          msg += lines[k] + " ";
        if (tag == ": Skipped") return one_line(msg.empty() ? "skipped" : msg);
        return one_line(fmt::format("{}: {}", where, msg));
      }
    }
  }
  if (output.find("Failure") != std::string_view::npos) return "failed (see the test output)";
  return "failed without a gtest message: the test crashed, aborted or timed out";
}

std::vector<TestResult> parse_junit(std::string_view xml) {
  const XmlElement root = XmlReader(xml).document();
  std::vector<const XmlElement*> cases;
  // ctest writes one <testsuite>; other tools nest suites in <testsuites>.
  std::vector<const XmlElement*> stack{&root};
  while (!stack.empty()) {
    const XmlElement* e = stack.back();
    stack.pop_back();
    if (e->name == "testcase") {
      cases.push_back(e);
      continue;
    }
    for (auto it = e->children.rbegin(); it != e->children.rend(); ++it) stack.push_back(&*it);
  }
  if (root.name != "testsuite" && root.name != "testsuites")
    throw CourseError(fmt::format("JUnit file: root element is <{}>, expected <testsuite>", root.name));
  std::vector<TestResult> out;
  for (const XmlElement* c : cases) {
    TestResult r;
    r.name = c->attribute("name");
    r.seconds = std::strtod(c->attribute("time").c_str(), nullptr);
    if (const XmlElement* so = c->child("system-out")) r.output = so->text;
    const std::string status = c->attribute("status");
    if (c->child("failure") || c->child("error") || status == "fail") {
      r.status = TestStatus::Failed;
      r.reason = failure_reason(r.output);
    } else if (status == "disabled") {
      r.status = TestStatus::Disabled;
      r.reason = "disabled";
    } else if (c->child("skipped") || status == "notrun") {
      r.status = TestStatus::Skipped;
      std::string why = "not run";
      if (r.output.find(": Skipped") != std::string::npos)
        why = failure_reason(r.output);  // GTEST_SKIP's message
      else if (const XmlElement* sk = c->child("skipped"); sk && !sk->attribute("message").empty())
        why = sk->attribute("message");
      r.reason = "skipped: " + why;
    } else {
      r.status = TestStatus::Passed;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tinyml::course
