#include "loom/tessel/views.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

bool IsInt(double x) { return std::fabs(x - std::round(x)) < 1e-9; }

bool HasWeightBlocks(const Placement& p) {
  for (const Block& b : p.blocks)
    if (b.type == BlockType::kWeight) return true;
  return false;
}

char ActionLetter(const Placement& p, BlockType t) {
  switch (t) {
    case BlockType::kForward: return 'F';
    case BlockType::kBackward: return HasWeightBlocks(p) ? 'I' : 'B';
    case BlockType::kWeight: return 'W';
    case BlockType::kOther: return 'O';
  }
  return 'O';
}

std::string Fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", x);
  return buf;
}

}  // namespace

StatusOr<std::string> AsciiView(const Placement& p, const Schedule& s) {
  int64_t horizon = 0;
  for (const Op& op : s.ops) {
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    if (!IsInt(op.start)) return InvalidArgumentError("ASCII view needs integer start times");
    for (double d : b.duration)
      if (!IsInt(d)) return InvalidArgumentError(StrCat("block '", b.name, "': non-integer span"));
    horizon = std::max<int64_t>(horizon, std::llround(op.start + b.Span()));
  }
  if (horizon > 100000) return InvalidArgumentError("ASCII view: schedule longer than 100000 steps");
  std::vector<std::vector<std::string>> cell(static_cast<size_t>(p.num_devices),
                                             std::vector<std::string>(static_cast<size_t>(horizon), "--"));
  std::vector<std::vector<bool>> cont(cell.size(), std::vector<bool>(static_cast<size_t>(horizon), false));
  for (const Op& op : s.ops) {
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    int64_t t0 = std::llround(op.start);
    for (size_t k = 0; k < b.devices.size(); ++k)
      for (int64_t t = t0; t < t0 + std::llround(b.duration[k]); ++t) {
        cell[static_cast<size_t>(b.devices[k])][static_cast<size_t>(t)] =
            StrCat(BlockTypeLetter(b.type), op.mid);
        cont[static_cast<size_t>(b.devices[k])][static_cast<size_t>(t)] = t > t0;
      }
  }
  bool marks = s.period > 0 && IsInt(s.window_begin) && IsInt(s.window_end);
  std::string out;
  for (size_t d = 0; d < cell.size(); ++d) {
    std::string row;
    for (int64_t t = 0; t < horizon; ++t) {
      if (marks && (t == std::llround(s.window_begin) || t == std::llround(s.window_end))) row += " |";
      if (t > 0) row += cont[d][static_cast<size_t>(t)] ? "-" : " ";
      row += cell[d][static_cast<size_t>(t)];
    }
    if (marks && horizon == std::llround(s.window_end)) row += " |";
    out += row + "\n";
  }
  return out;
}

namespace {

int NameStage(const Placement& p, int block) {
  const std::string& name = p.blocks[static_cast<size_t>(block)].name;
  if (name.size() >= 2 && name.size() < 9 && std::isalpha(static_cast<unsigned char>(name[0])) &&
      std::all_of(name.begin() + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoi(name.substr(1));
  return -1;
}

}  // namespace

int ActionStage(const Placement& p, int block) {
  // Library names (f3/b3/w3) give the stage when every block has one and no two blocks collide
  // on (stage, action); otherwise the block index is the stage.
  std::map<std::pair<int, char>, int> seen;
  for (size_t b = 0; b < p.blocks.size(); ++b) {
    int st = NameStage(p, static_cast<int>(b));
    if (st < 0 || !seen.insert({{st, ActionLetter(p, p.blocks[b].type)}, 0}).second) return block;
  }
  return NameStage(p, block);
}

std::string ActionCsv(const Placement& p, const Schedule& s) {
  auto orders = DeviceOrders(p, s);
  std::string out;
  for (const auto& order : orders) {
    std::string line;
    for (int i : order) {
      const Op& op = s.ops[static_cast<size_t>(i)];
      line += StrCat(line.empty() ? "" : ",", ActionStage(p, op.block),
                     ActionLetter(p, p.blocks[static_cast<size_t>(op.block)].type), op.mid);
    }
    out += line + "\n";
  }
  return out;
}

StatusOr<std::vector<std::vector<OrderItem>>> ParseActionCsv(const Placement& p,
                                                             std::string_view csv) {
  std::map<std::pair<int, char>, int> lookup;
  for (size_t b = 0; b < p.blocks.size(); ++b)
    lookup[{ActionStage(p, static_cast<int>(b)), ActionLetter(p, p.blocks[b].type)}] =
        static_cast<int>(b);
  std::vector<std::vector<OrderItem>> orders;
  for (std::string_view line : StrSplit(csv, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && orders.size() >= static_cast<size_t>(p.num_devices)) continue;
    size_t rank = orders.size();
    orders.emplace_back();
    if (line.empty()) continue;
    for (std::string_view tok : StrSplit(line, ',')) {
      size_t i = 0;
      while (i < tok.size() && tok[i] >= '0' && tok[i] <= '9') ++i;
      if (i == 0 || i >= tok.size() || i > 9 || tok.size() - i > 10)
        return InvalidArgumentError(StrCat("rank ", rank, ": bad action token '", std::string(tok), "'"));
      char act = tok[i];
      LOOM_ASSIGN_OR_RETURN(int64_t stage, ParseInt(tok.substr(0, i), "stage"));
      LOOM_ASSIGN_OR_RETURN(int64_t mid, ParseInt(tok.substr(i + 1), "micro-batch"));
      auto it = lookup.find({static_cast<int>(stage), act});
      if (it == lookup.end() || mid < 0 || mid > 10000000)
        return InvalidArgumentError(StrCat("rank ", rank, ": action '", std::string(tok),
                                           "' names no block of placement '", p.name, "'"));
      orders.back().push_back({it->second, static_cast<int>(mid)});
    }
  }
  while (orders.size() < static_cast<size_t>(p.num_devices)) orders.emplace_back();
  if (orders.size() != static_cast<size_t>(p.num_devices))
    return InvalidArgumentError(StrCat("action CSV has ", orders.size(), " ranks, placement ",
                                       p.num_devices));
  return orders;
}

std::string SvgGantt(const Placement& p, const Schedule& s, const std::string& title) {
  ScheduleMetrics m = ComputeMetrics(p, s);
  auto curves = MemoryCurves(p, s);
  const double width = 1000, left = 70, row_h = 26, mem_h = 40, top = 40;
  const int n = p.num_devices;
  const double span = std::max(m.makespan, 1e-9);
  const double sx = width / span;
  double mem_max = 1e-9;
  for (const auto& c : curves)
    for (const auto& pt : c) mem_max = std::max(mem_max, pt.second);
  const double gantt_h = n * row_h;
  const double height = top + gantt_h + 20 + n * (mem_h + 6) + 30;
  std::string o = StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", Fmt(left + width + 20),
                         "\" height=\"", Fmt(height), "\" font-family=\"monospace\" font-size=\"11\">\n");
  auto esc = [](const std::string& t) {
    std::string r;
    for (char c : t) {
      if (c == '<') r += "&lt;";
      else if (c == '>') r += "&gt;";
      else if (c == '&') r += "&amp;";
      else if (c == '"') r += "&quot;";
      else r += c;
    }
    return r;
  };
  o += StrCat("<text x=\"", Fmt(left), "\" y=\"16\" font-size=\"13\">", esc(title), " | makespan ",
              Fmt(m.makespan), " | bubble ", Fmt(100 * m.bubble_ratio), "%",
              s.period > 0 ? StrCat(" | period ", Fmt(s.period)) : std::string(), "</text>\n");
  const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#9c9c9c"};
  for (int d = 0; d < n; ++d)
    o += StrCat("<text x=\"4\" y=\"", Fmt(top + d * row_h + row_h * 0.65), "\">dev ", d, "</text>\n");
  for (const Op& op : s.ops) {
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    for (size_t k = 0; k < b.devices.size(); ++k) {
      double x = left + op.start * sx, w = b.duration[k] * sx;
      double y = top + b.devices[k] * row_h;
      o += StrCat("<rect x=\"", Fmt(x), "\" y=\"", Fmt(y + 2), "\" width=\"", Fmt(w),
                  "\" height=\"", Fmt(row_h - 4), "\" fill=\"", colors[static_cast<int>(b.type)],
                  "\" stroke=\"#222\" stroke-width=\"0.4\"><title>", esc(b.name), " mb ", op.mid,
                  " @", Fmt(op.start), "</title></rect>\n");
      if (w > 14)
        o += StrCat("<text x=\"", Fmt(x + w / 2), "\" y=\"", Fmt(y + row_h * 0.65),
                    "\" text-anchor=\"middle\" fill=\"white\">", op.mid, "</text>\n");
    }
  }
  if (s.period > 0)
    for (double t : {s.window_begin, s.window_end})
      o += StrCat("<line x1=\"", Fmt(left + t * sx), "\" y1=\"", Fmt(top - 4), "\" x2=\"",
                  Fmt(left + t * sx), "\" y2=\"", Fmt(top + gantt_h + 4),
                  "\" stroke=\"red\" stroke-dasharray=\"4 3\"/>\n");
  double mem_top = top + gantt_h + 20;
  for (int d = 0; d < n; ++d) {
    double y0 = mem_top + d * (mem_h + 6);
    o += StrCat("<rect x=\"", Fmt(left), "\" y=\"", Fmt(y0), "\" width=\"", Fmt(width),
                "\" height=\"", Fmt(mem_h), "\" fill=\"none\" stroke=\"#ccc\"/>\n");
    o += StrCat("<text x=\"4\" y=\"", Fmt(y0 + mem_h * 0.6), "\">mem ", d, " (peak ",
                Fmt(m.peak_memory[static_cast<size_t>(d)]), ")</text>\n");
    std::string pts;
    double prev = 0;
    for (const auto& [t, v] : curves[static_cast<size_t>(d)]) {
      double x = left + t * sx;
      pts += StrCat(Fmt(x), ",", Fmt(y0 + mem_h - prev / mem_max * mem_h), " ", Fmt(x), ",",
                    Fmt(y0 + mem_h - v / mem_max * mem_h), " ");
      prev = v;
    }
    pts += StrCat(Fmt(left + width), ",", Fmt(y0 + mem_h - prev / mem_max * mem_h));
    o += StrCat("<polyline fill=\"none\" stroke=\"#b07aa1\" stroke-width=\"1.2\" points=\"", pts,
                "\"/>\n");
  }
  o += StrCat("<text x=\"", Fmt(left), "\" y=\"", Fmt(height - 8),
              "\">blue forward, orange backward, green weight, grey other; red dashes: repetend</text>\n");
  o += "</svg>\n";
  return o;
}

}  // namespace loom::tessel
