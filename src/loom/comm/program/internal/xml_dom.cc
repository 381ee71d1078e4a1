// The strict XML reader behind xml.cc: a recursive-descent parser over a string_view with an
// explicit depth bound.
#include "loom/comm/program/internal/xml_dom.h"

#include <cstdint>

#include "loom/base/strings.h"

namespace loom::comm::program::internal {

const std::string* XmlElement::Find(std::string_view key) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return &v;
  return nullptr;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source, int max_depth, size_t max_nodes)
      : text_(text), source_(source), max_depth_(max_depth), max_nodes_(max_nodes) {}

  StatusOr<XmlElement> Document() {
    SkipBom();
    LOOM_RETURN_IF_ERROR(SkipMisc(/*allow_decl=*/true));
    if (AtEnd()) return Error("no root element");
    if (Peek() != '<') return Error("expected '<'");
    XmlElement root;
    LOOM_RETURN_IF_ERROR(Element(root, 1));
    LOOM_RETURN_IF_ERROR(SkipMisc(/*allow_decl=*/false));
    if (!AtEnd()) return Error("content after the root element");
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool StartsWith(std::string_view s) const { return text_.substr(pos_).starts_with(s); }
  void Advance(size_t n = 1) {
    for (size_t i = 0; i < n && pos_ < text_.size(); ++i) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
      ++pos_;
    }
  }
  Status Error(std::string_view what) const {
    return InvalidArgumentError(
        StrCat(source_, ":", line_, ":", pos_ - line_start_ + 1, ": XML: ", what));
  }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(Peek())) Advance();
  }
  void SkipBom() {
    if (StartsWith("\xEF\xBB\xBF")) pos_ += 3;
  }

  // Whitespace, comments and (before the root) one XML declaration.
  Status SkipMisc(bool allow_decl) {
    bool decl_seen = false;
    while (true) {
      SkipSpace();
      if (StartsWith("<!--")) {
        LOOM_RETURN_IF_ERROR(Comment());
      } else if (StartsWith("<?")) {
        if (!allow_decl || decl_seen || !StartsWith("<?xml"))
          return Error("processing instructions are not supported");
        decl_seen = true;
        size_t end = text_.find("?>", pos_);
        if (end == std::string_view::npos) return Error("unterminated XML declaration");
        Advance(end + 2 - pos_);
      } else if (StartsWith("<!")) {
        return Error("DOCTYPE and CDATA are not supported");
      } else {
        return OkStatus();
      }
    }
  }

  Status Comment() {
    size_t end = text_.find("-->", pos_ + 4);
    if (end == std::string_view::npos) return Error("unterminated comment");
    Advance(end + 3 - pos_);
    return OkStatus();
  }

  StatusOr<std::string> Name() {
    if (AtEnd() || !IsNameStart(Peek())) return Error("expected a name");
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek())) Advance();
    if (pos_ - start > 256) return Error("name longer than 256 characters");
    return std::string(text_.substr(start, pos_ - start));
  }

  Status Entity(std::string& out) {
    size_t end = text_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 12) return Error("malformed entity");
    std::string_view ent = text_.substr(pos_ + 1, end - pos_ - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return Error("malformed character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return Error("malformed character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
        if (cp > 0x10FFFF) return Error("character reference out of range");
      }
      // Attribute values loom reads are ASCII; encode the rest as UTF-8 for completeness.
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
    } else {
      return Error(StrCat("unknown entity '&", ent, ";'"));
    }
    Advance(end + 1 - pos_);
    return OkStatus();
  }

  StatusOr<std::string> AttributeValue() {
    char quote = Peek();
    if (quote != '"' && quote != '\'') return Error("expected a quoted attribute value");
    Advance();
    std::string value;
    while (true) {
      if (AtEnd()) return Error("unterminated attribute value");
      char c = Peek();
      if (c == quote) break;
      if (c == '<') return Error("'<' in an attribute value");
      if (c == '&') {
        LOOM_RETURN_IF_ERROR(Entity(value));
        continue;
      }
      value += c;
      Advance();
    }
    Advance();
    return value;
  }

  Status Element(XmlElement& out, int depth) {
    if (depth > max_depth_) return Error(StrCat("elements nested deeper than ", max_depth_));
    if (++nodes_ > max_nodes_) return Error(StrCat("more than ", max_nodes_, " elements"));
    out.line = line_;
    Advance();  // '<'
    LOOM_ASSIGN_OR_RETURN(out.name, Name());
    while (true) {
      bool had_space = !AtEnd() && IsSpace(Peek());
      SkipSpace();
      if (AtEnd()) return Error(StrCat("unterminated <", out.name, ">"));
      if (StartsWith("/>")) {
        Advance(2);
        return OkStatus();
      }
      if (Peek() == '>') {
        Advance();
        break;
      }
      if (!had_space) return Error(StrCat("expected whitespace, '>' or '/>' in <", out.name, ">"));
      LOOM_ASSIGN_OR_RETURN(std::string key, Name());
      SkipSpace();
      if (Peek() != '=') return Error(StrCat("expected '=' after attribute '", key, "'"));
      Advance();
      SkipSpace();
      LOOM_ASSIGN_OR_RETURN(std::string value, AttributeValue());
      if (out.Find(key) != nullptr)
        return Error(StrCat("duplicate attribute '", key, "' in <", out.name, ">"));
      out.attributes.emplace_back(std::move(key), std::move(value));
    }
    // Content: child elements, comments, whitespace, then the end tag.
    while (true) {
      SkipSpace();
      if (AtEnd()) return Error(StrCat("unterminated <", out.name, ">"));
      if (StartsWith("<!--")) {
        LOOM_RETURN_IF_ERROR(Comment());
      } else if (StartsWith("</")) {
        Advance(2);
        LOOM_ASSIGN_OR_RETURN(std::string name, Name());
        if (name != out.name)
          return Error(StrCat("</", name, "> closes <", out.name, "> (opened on line ", out.line,
                              ")"));
        SkipSpace();
        if (Peek() != '>') return Error(StrCat("expected '>' in </", name, ">"));
        Advance();
        return OkStatus();
      } else if (StartsWith("<?") || StartsWith("<!")) {
        return Error("processing instructions, DOCTYPE and CDATA are not supported");
      } else if (Peek() == '<') {
        out.children.emplace_back();
        LOOM_RETURN_IF_ERROR(Element(out.children.back(), depth + 1));
      } else {
        return Error(StrCat("unexpected text inside <", out.name, ">"));
      }
    }
  }

  std::string_view text_;
  std::string_view source_;
  int max_depth_;
  size_t max_nodes_;
  size_t nodes_ = 0;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

StatusOr<XmlElement> ParseXml(std::string_view text, std::string_view source, int max_depth,
                              size_t max_nodes) {
  return Parser(text, source, max_depth, max_nodes).Document();
}

std::string XmlEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace loom::comm::program::internal
