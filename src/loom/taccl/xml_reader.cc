// A strict reader for the MSCCL XML subset (<algo>, <gpu>, <tb>, <step>, comments, an <?xml?>
// header) into taccl's Program, so `loom taccl sim` can run any MSCCL file. Errors name the line
// and the element. Both dialects are accepted (reduce_scatter / reducescatter).
#include <cctype>
#include <map>

#include "loom/base/strings.h"
#include "loom/taccl/program.h"

namespace loom::taccl {
namespace {

struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  bool closing = false, self_closing = false;
  int line = 0;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  // Next element; false at end of input.
  StatusOr<bool> Next(Element* e) {
    for (;;) {
      while (i_ < s_.size() && s_[i_] != '<') {
        if (!std::isspace(static_cast<unsigned char>(s_[i_])))
          return Err("text outside elements");
        if (s_[i_] == '\n') ++line_;
        ++i_;
      }
      if (i_ >= s_.size()) return false;
      if (s_.compare(i_, 4, "<!--") == 0) {
        size_t end = s_.find("-->", i_ + 4);
        if (end == std::string_view::npos) return Err("unterminated comment");
        for (size_t k = i_; k < end; ++k) line_ += s_[k] == '\n';
        i_ = end + 3;
        continue;
      }
      if (s_.compare(i_, 2, "<?") == 0) {
        size_t end = s_.find("?>", i_ + 2);
        if (end == std::string_view::npos) return Err("unterminated <? ?>");
        i_ = end + 2;
        continue;
      }
      break;
    }
    *e = Element();
    e->line = line_;
    ++i_;
    if (i_ < s_.size() && s_[i_] == '/') {
      e->closing = true;
      ++i_;
    }
    e->name = Ident();
    if (e->name.empty()) return Err("element without a name");
    for (;;) {
      SkipSpace();
      if (i_ >= s_.size()) return Err(StrCat("unterminated <", e->name, ">"));
      if (s_[i_] == '>') { ++i_; return true; }
      if (s_[i_] == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '>') {
        e->self_closing = true;
        i_ += 2;
        return true;
      }
      std::string key = Ident();
      if (key.empty()) return Err(StrCat("bad attribute in <", e->name, ">"));
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '=') return Err(StrCat("attribute '", key, "' without a value"));
      ++i_;
      SkipSpace();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return Err(StrCat("attribute '", key, "' is not quoted"));
      char q = s_[i_++];
      size_t end = s_.find(q, i_);
      if (end == std::string_view::npos) return Err(StrCat("attribute '", key, "' is not terminated"));
      if (!e->attrs.emplace(key, std::string(s_.substr(i_, end - i_))).second)
        return Err(StrCat("attribute '", key, "' twice"));
      i_ = end + 1;
    }
  }

  Status Err(const std::string& what) const {
    return DataLossError(StrCat(source_, ":", line_, ": ", what));
  }

 private:
  std::string Ident() {
    size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '-')) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) {
      if (s_[i_] == '\n') ++line_;
      ++i_;
    }
  }
  std::string_view s_;
  std::string source_;
  size_t i_ = 0;
  int line_ = 1;
};

StatusOr<int64_t> IntAttr(const Element& e, const std::string& key, std::string_view source, bool required = true,
                          int64_t fallback = 0) {
  auto it = e.attrs.find(key);
  if (it == e.attrs.end()) {
    if (!required) return fallback;
    return InvalidArgumentError(StrCat(source, ":", e.line, ": <", e.name, "> lacks required attribute '", key, "'"));
  }
  auto v = ParseInt(it->second, key);
  if (!v.ok() || *v < -1 || *v > (int64_t{1} << 40))
    return InvalidArgumentError(StrCat(source, ":", e.line, ": <", e.name, "> ", key, "=\"", it->second, "\" is not an integer >= -1"));
  return *v;
}

}  // namespace

StatusOr<Program> ParseProgramXml(std::string_view text, std::string_view source) {
  Lexer lex(text, source);
  Program p;
  Element e;
  LOOM_ASSIGN_OR_RETURN(bool any, lex.Next(&e));
  if (!any || e.name != "algo" || e.closing) return lex.Err("expected <algo>");
  auto it = e.attrs.find("coll");
  if (it == e.attrs.end()) return InvalidArgumentError(StrCat(source, ": <algo> lacks 'coll'"));
  LOOM_ASSIGN_OR_RETURN(p.coll, ParseCollective(it->second));
  if (e.attrs.count("name")) p.name = e.attrs["name"];
  if (e.attrs.count("proto")) p.proto = e.attrs["proto"];
  LOOM_ASSIGN_OR_RETURN(int64_t nch, IntAttr(e, "nchannels", source));
  LOOM_ASSIGN_OR_RETURN(int64_t ncl, IntAttr(e, "nchunksperloop", source));
  LOOM_ASSIGN_OR_RETURN(int64_t ngpus, IntAttr(e, "ngpus", source, false, -1));
  LOOM_ASSIGN_OR_RETURN(int64_t inplace, IntAttr(e, "inplace", source));
  if (nch < 1 || ncl < 1 || ncl > 1 << 20) return InvalidArgumentError(StrCat(source, ": nchannels / nchunksperloop must be >= 1"));
  p.nchannels = static_cast<int>(nch);
  p.nchunksperloop = static_cast<int>(ncl);
  p.inplace = inplace != 0;
  GpuProgram* gpu = nullptr;
  ThreadBlock* tb = nullptr;
  for (;;) {
    LOOM_ASSIGN_OR_RETURN(bool more, lex.Next(&e));
    if (!more) return lex.Err("missing </algo>");
    if (e.closing) {
      if (e.name == "tb" && tb) tb = nullptr;
      else if (e.name == "gpu" && gpu && !tb) gpu = nullptr;
      else if (e.name == "algo" && !gpu) break;
      else return lex.Err(StrCat("unexpected </", e.name, ">"));
      continue;
    }
    if (e.name == "gpu" && !gpu) {
      LOOM_ASSIGN_OR_RETURN(int64_t id, IntAttr(e, "id", source));
      if (id != static_cast<int64_t>(p.gpus.size()))
        return lex.Err(StrCat("gpu id ", id, " out of order (want ", p.gpus.size(), ")"));
      if (p.gpus.size() >= 4096) return lex.Err("more than 4096 GPUs");
      p.gpus.emplace_back();
      gpu = &p.gpus.back();
      LOOM_ASSIGN_OR_RETURN(int64_t ic, IntAttr(e, "i_chunks", source));
      LOOM_ASSIGN_OR_RETURN(int64_t oc, IntAttr(e, "o_chunks", source));
      LOOM_ASSIGN_OR_RETURN(int64_t sc, IntAttr(e, "s_chunks", source));
      if (ic < 0 || oc < 0 || sc < 0 || sc > 1 << 20) return lex.Err("chunk counts must be >= 0");
      gpu->i_chunks = static_cast<int>(ic);
      gpu->o_chunks = static_cast<int>(oc);
      gpu->s_chunks = static_cast<int>(sc);
      if (e.self_closing) gpu = nullptr;
    } else if (e.name == "tb" && gpu && !tb) {
      LOOM_ASSIGN_OR_RETURN(int64_t id, IntAttr(e, "id", source));
      if (id != static_cast<int64_t>(gpu->tbs.size())) return lex.Err(StrCat("tb id ", id, " out of order"));
      if (gpu->tbs.size() >= 1024) return lex.Err("more than 1024 TBs on a GPU");
      gpu->tbs.emplace_back();
      tb = &gpu->tbs.back();
      LOOM_ASSIGN_OR_RETURN(int64_t snd, IntAttr(e, "send", source));
      LOOM_ASSIGN_OR_RETURN(int64_t rcv, IntAttr(e, "recv", source));
      LOOM_ASSIGN_OR_RETURN(int64_t chan, IntAttr(e, "chan", source));
      if (chan < 0 || chan > 64) return lex.Err("chan must be 0..64");
      tb->send = static_cast<int>(snd);
      tb->recv = static_cast<int>(rcv);
      tb->chan = static_cast<int>(chan);
      if (e.self_closing) tb = nullptr;
    } else if (e.name == "step" && tb) {
      LOOM_ASSIGN_OR_RETURN(int64_t s, IntAttr(e, "s", source));
      if (s != static_cast<int64_t>(tb->steps.size())) return lex.Err(StrCat("step s=", s, " out of order"));
      if (tb->steps.size() >= 4096) return lex.Err("more than 4096 steps in a TB");
      Step st;
      std::string type = e.attrs.count("type") ? e.attrs["type"] : "";
      bool found = false;
      for (StepType t : {StepType::kSend, StepType::kRecv, StepType::kRecvCopySend, StepType::kRecvReduceSend,
                         StepType::kRecvReduceCopy, StepType::kRecvReduceCopySend, StepType::kCopy,
                         StepType::kReduce, StepType::kNop})
        if (type == StepTypeName(t)) {
          st.type = t;
          found = true;
        }
      if (!found) return lex.Err(StrCat("step type '", type, "' is not an MSCCL step type"));
      for (const char* key : {"srcbuf", "dstbuf"}) {
        auto b = e.attrs.find(key);
        if (b == e.attrs.end() || b->second.size() != 1 || std::string("ios").find(b->second[0]) == std::string::npos)
          return lex.Err(StrCat("step ", key, " must be i, o or s"));
        (key[0] == 's' ? st.srcbuf : st.dstbuf) = b->second[0];
      }
      LOOM_ASSIGN_OR_RETURN(int64_t so, IntAttr(e, "srcoff", source));
      LOOM_ASSIGN_OR_RETURN(int64_t dso, IntAttr(e, "dstoff", source));
      LOOM_ASSIGN_OR_RETURN(int64_t cnt, IntAttr(e, "cnt", source));
      LOOM_ASSIGN_OR_RETURN(int64_t depid, IntAttr(e, "depid", source));
      LOOM_ASSIGN_OR_RETURN(int64_t deps, IntAttr(e, "deps", source));
      LOOM_ASSIGN_OR_RETURN(int64_t hasdep, IntAttr(e, "hasdep", source));
      if (cnt < 0 || cnt >= 72) return lex.Err("cnt must be 0..71");
      if (so > 1 << 20 || dso > 1 << 20 || depid > 4096 || deps > 4096) return lex.Err("offset or dependency out of range");
      st.srcoff = static_cast<int>(so);
      st.dstoff = static_cast<int>(dso);
      st.cnt = static_cast<int>(cnt);
      st.depid = static_cast<int>(depid);
      st.deps = static_cast<int>(deps);
      st.hasdep = hasdep != 0;
      tb->steps.push_back(st);
      if (!e.self_closing) {
        LOOM_ASSIGN_OR_RETURN(bool m2, lex.Next(&e));
        if (!m2 || !e.closing || e.name != "step") return lex.Err("<step> must be empty");
      }
    } else {
      return lex.Err(StrCat("unexpected <", e.name, ">"));
    }
  }
  if (ngpus >= 0 && ngpus != static_cast<int64_t>(p.gpus.size()))
    return InvalidArgumentError(StrCat(source, ": ngpus=", ngpus, " but ", p.gpus.size(), " <gpu> elements"));
  if (p.gpus.empty()) return InvalidArgumentError(StrCat(source, ": no <gpu> elements"));
  for (size_t g = 0; g < p.gpus.size(); ++g)
    for (size_t t = 0; t < p.gpus[g].tbs.size(); ++t) {
      const ThreadBlock& b = p.gpus[g].tbs[t];
      if (b.send >= static_cast<int>(p.gpus.size()) || b.recv >= static_cast<int>(p.gpus.size()) ||
          b.send == static_cast<int>(g) || b.recv == static_cast<int>(g))
        return InvalidArgumentError(StrCat(source, ": gpu ", g, " tb ", t, ": peer out of range or itself"));
    }
  return p;
}

}  // namespace loom::taccl
