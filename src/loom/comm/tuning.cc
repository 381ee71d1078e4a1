// TuningTable (tuning.h): parse, validate, look up, write.
#include "loom/comm/tuning.h"

#include <cstdlib>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"

namespace loom::comm {

namespace {

constexpr std::string_view kFormat = "loom-comm-tuning";
constexpr int64_t kVersion = 1;

constexpr CollectiveKind kTunable[] = {
    CollectiveKind::kAllReduce, CollectiveKind::kAllGather, CollectiveKind::kReduceScatter,
    CollectiveKind::kAllToAll,  CollectiveKind::kAllToAllV, CollectiveKind::kBroadcast,
    CollectiveKind::kReduce,    CollectiveKind::kGather,    CollectiveKind::kScatter};

// The rules of one list; `where(i, member)` names range i's member ("" for the range itself,
// i < 0 for the list) in messages.
template <typename Where>
Status CheckRanges(int ranks, CollectiveKind kind, const std::vector<TuningRange>& ranges,
                   Where where) {
  if (ranges.empty()) return InvalidArgumentError(StrCat(where(-1, ""), ": no ranges"));
  for (size_t i = 0; i < ranges.size(); ++i) {
    const TuningRange& r = ranges[i];
    const int idx = static_cast<int>(i);
    if (!Implements(r.algorithm, kind, ranks))
      return InvalidArgumentError(StrCat(where(idx, "algorithm"), ": ", AlgorithmName(r.algorithm),
                                         " does not implement ", CollectiveKindName(kind), " on ",
                                         ranks, " ranks"));
    const bool last = i + 1 == ranges.size();
    if (last != !r.up_to_bytes.has_value())
      return InvalidArgumentError(StrCat(where(idx, "up_to_bytes"), ": ",
                                         last ? "the last range must be open (no up_to_bytes)"
                                              : "only the last range may omit up_to_bytes"));
    if (i > 0 && r.up_to_bytes && *r.up_to_bytes <= *ranges[i - 1].up_to_bytes)
      return InvalidArgumentError(StrCat(where(idx, "up_to_bytes"), ": ", *r.up_to_bytes,
                                         " is not above the previous range's ",
                                         *ranges[i - 1].up_to_bytes));
  }
  return OkStatus();
}

}  // namespace

StatusOr<CollectiveKind> ParseCollectiveKind(std::string_view text) {
  for (CollectiveKind k : kTunable)
    if (CollectiveKindName(k) == text) return k;
  return InvalidArgumentError(StrCat("unknown collective '", text, "'"));
}

Status TuningTable::Set(int ranks, CollectiveKind kind, std::vector<TuningRange> ranges) {
  if (ranks < 1) return InvalidArgumentError(StrCat("tuning: ranks ", ranks, " < 1"));
  LOOM_RETURN_IF_ERROR(CheckRanges(ranks, kind, ranges, [&](int i, std::string_view member) {
    return StrCat("tuning ", CollectiveKindName(kind), " at ", ranks, " ranks",
                  i < 0 ? std::string() : StrCat(" range ", i, " ", member));
  }));
  entries_[{ranks, kind}] = std::move(ranges);
  return OkStatus();
}

std::optional<Algorithm> TuningTable::Lookup(CollectiveKind kind, int ranks, size_t bytes) const {
  auto it = entries_.find({ranks, kind});
  if (it == entries_.end()) return std::nullopt;
  for (const TuningRange& r : it->second)
    if (!r.up_to_bytes || bytes <= *r.up_to_bytes) return r.algorithm;
  return std::nullopt;  // unreachable for a validated table (the last range is open)
}

StatusOr<TuningTable> TuningTable::Parse(std::string_view text, std::string_view source) {
  LOOM_ASSIGN_OR_RETURN(JsonValue doc, ParseJson(text, source));
  if (!doc.IsObject()) return doc.Error("expected an object");
  LOOM_ASSIGN_OR_RETURN(std::string format, doc.GetString("format"));
  if (format != kFormat) {
    LOOM_ASSIGN_OR_RETURN(JsonValue f, doc.Get("format"));
    return f.Error(StrCat("expected \"", kFormat, "\", got \"", format, "\""));
  }
  LOOM_ASSIGN_OR_RETURN(int64_t version, doc.GetInt("version"));
  if (version != kVersion) {
    LOOM_ASSIGN_OR_RETURN(JsonValue v, doc.Get("version"));
    return v.Error(StrCat("version ", version, " is not supported (this loom reads ", kVersion, ")"));
  }
  TuningTable table;
  LOOM_ASSIGN_OR_RETURN(table.backend, doc.GetString("backend", "thread"));
  LOOM_ASSIGN_OR_RETURN(JsonValue tables, doc.Get("tables"));
  LOOM_ASSIGN_OR_RETURN(std::vector<JsonValue> list, tables.Elements());
  for (const JsonValue& t : list) {
    if (!t.IsObject()) return t.Error("expected an object");
    LOOM_ASSIGN_OR_RETURN(int64_t ranks, t.GetInt("ranks"));
    if (ranks < 1 || ranks > (1 << 20)) {
      LOOM_ASSIGN_OR_RETURN(JsonValue rv, t.Get("ranks"));
      return rv.Error(StrCat("ranks ", ranks, " is out of range [1, 2^20]"));
    }
    const int p = static_cast<int>(ranks);
    LOOM_ASSIGN_OR_RETURN(JsonValue colls, t.Get("collectives"));
    LOOM_ASSIGN_OR_RETURN(auto members, colls.Members());
    for (const auto& [name, ranges_json] : members) {
      StatusOr<CollectiveKind> kind = ParseCollectiveKind(name);
      if (!kind.ok()) return ranges_json.Error(kind.status().message());
      if (table.entries_.count({p, *kind}))
        return ranges_json.Error(StrCat("a second table for ", ranks, " ranks repeats ", name));
      LOOM_ASSIGN_OR_RETURN(std::vector<JsonValue> items, ranges_json.Elements());
      std::vector<TuningRange> ranges;
      for (const JsonValue& item : items) {
        if (!item.IsObject()) return item.Error("expected an object");
        TuningRange r;
        LOOM_ASSIGN_OR_RETURN(std::string algo_name, item.GetString("algorithm"));
        StatusOr<Algorithm> a = ParseAlgorithm(algo_name);
        if (!a.ok() || *a == Algorithm::kAuto) {
          LOOM_ASSIGN_OR_RETURN(JsonValue av, item.Get("algorithm"));
          return av.Error(StrCat("unknown algorithm '", algo_name, "'"));
        }
        r.algorithm = *a;
        if (auto ub = item.Find("up_to_bytes"); ub && !ub->IsNull()) {
          LOOM_ASSIGN_OR_RETURN(int64_t b, ub->AsInt());
          if (b < 0) return ub->Error(StrCat("negative byte bound ", b));
          r.up_to_bytes = static_cast<size_t>(b);
        }
        ranges.push_back(r);
      }
      // A plain reference: clang 14 cannot capture a structured binding.
      const JsonValue& list = ranges_json;
      LOOM_RETURN_IF_ERROR(CheckRanges(p, *kind, ranges, [&](int i, std::string_view member) {
        return StrCat(source, ": field '", list.path(), i < 0 ? "" : StrCat("[", i, "]"),
                      member.empty() ? "" : ".", member, "'");
      }));
      table.entries_[{p, *kind}] = std::move(ranges);
    }
  }
  return table;
}

StatusOr<TuningTable> TuningTable::ReadFile(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return Parse(text, path);
}

Json TuningTable::ToJson() const {
  Json tables = Json::array();
  std::map<int, Json> by_ranks;
  for (const auto& [key, ranges] : entries_) {
    Json list = Json::array();
    for (const TuningRange& r : ranges) {
      Json item = {{"algorithm", std::string(AlgorithmName(r.algorithm))}};
      if (r.up_to_bytes) item["up_to_bytes"] = *r.up_to_bytes;
      list.push_back(item);
    }
    by_ranks[key.first][std::string(CollectiveKindName(key.second))] = list;
  }
  for (auto& [ranks, colls] : by_ranks) tables.push_back({{"ranks", ranks}, {"collectives", colls}});
  return {{"format", std::string(kFormat)}, {"version", kVersion}, {"backend", backend},
          {"tables", tables}};
}

Status TuningTable::WriteFile(const std::string& path) const { return WriteJsonFile(path, ToJson()); }

StatusOr<std::shared_ptr<const TuningTable>> TuningFromEnvironment() {
  const char* path = std::getenv("LOOM_COMM_TUNING");
  if (path == nullptr || *path == '\0') return std::shared_ptr<const TuningTable>();
  StatusOr<TuningTable> t = TuningTable::ReadFile(path);
  if (!t.ok()) return t.status().WithContext("LOOM_COMM_TUNING");
  return std::make_shared<const TuningTable>(std::move(*t));
}

}  // namespace loom::comm
