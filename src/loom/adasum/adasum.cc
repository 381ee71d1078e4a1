// Adasum: the pairwise operator and the VHDD allreduce (adasum.h).
#include "loom/adasum/adasum.h"

#include <cfloat>
#include <cmath>
#include <cstring>

#include "loom/adasum/internal/fused_list.h"
#include "loom/adasum/internal/kernels.h"
#include "loom/base/strings.h"

namespace loom::adasum {

using comm::DataType;

namespace {

// Zero-norm guard (Horovod adasum.h): below this squared norm a coefficient stays 1.
const double kNormGuard = std::sqrt(DBL_MIN);

Status CheckType(DataType t) { return internal::CheckAdasumType(t, "adasum"); }

using internal::Dots;
using internal::ScaledAdd;
using internal::Stats;

double Coefficient(double dot, double norm_sq) {
  return norm_sq >= kNormGuard ? 1.0 - dot / (2.0 * norm_sq) : 1.0;
}

// Adds the per-tensor partial (a·b, ‖left‖², ‖right‖²) over elements [s, e) of the kept range
// (a points at its first element, keep_lo; b at element b_lo, ≤ s) to `stats`: tensors cut by
// the range contribute their piece; the slots are ordered left/right (the role swap). `t` is a
// cursor, the first tensor that can overlap; calls must come with ascending ranges.
void AddStats(DataType dtype, const std::byte* a, size_t keep_lo, const std::byte* b, size_t b_lo,
              size_t s, size_t e, const std::vector<size_t>& offsets, bool left, size_t& t,
              std::vector<double>& stats) {
  const size_t es = comm::DataTypeSize(dtype);
  const size_t num_tensors = offsets.size() - 1;
  while (t < num_tensors && offsets[t + 1] <= s) ++t;
  for (size_t u = t; u < num_tensors && offsets[u] < e; ++u) {
    size_t lo = std::max(offsets[u], s), hi = std::min(offsets[u + 1], e);
    if (hi <= lo) continue;
    Stats st = Dots(dtype, a + (lo - keep_lo) * es, b + (lo - b_lo) * es, hi - lo);
    stats[3 * u] += st.dot;
    stats[3 * u + 1] += left ? st.aa : st.bb;
    stats[3 * u + 2] += left ? st.bb : st.aa;
  }
}

// The dot pass over the kept range [keep_lo, keep_hi) fused with landing the partner's half
// (Transport::ReadPeer): each window of `window_bytes` (whole 128 KiB pieces of the
// SendRecvVisit grid) is read into `landing` and its pieces' dots are taken at once, while the
// window is in cache, so the pass reads only `a` from memory; the partials are the other
// exchanges' (same grid, same order).
Status LandAndDot(const comm::Transport::PeerReadFn& read, std::span<std::byte> landing,
                  size_t window_bytes, DataType dtype, const std::byte* a, size_t keep_lo,
                  const std::vector<size_t>& offsets, bool left, std::vector<double>& stats) {
  const size_t es = comm::DataTypeSize(dtype);
  const size_t piece = comm::Transport::kVisitPieceBytes / es, window = window_bytes / es;
  const size_t keep_hi = keep_lo + landing.size() / es;
  size_t cursor = 0;
  for (size_t w = keep_lo; w < keep_hi; w += window) {
    const size_t w_hi = std::min(w + window, keep_hi);
    std::span<std::byte> dst = landing.subspan((w - keep_lo) * es, (w_hi - w) * es);
    LOOM_RETURN_IF_ERROR(read((w - keep_lo) * es, dst));
    for (size_t s = w; s < w_hi; s += piece)
      AddStats(dtype, a, keep_lo, landing.data(), keep_lo, s, std::min(s + piece, w_hi), offsets,
               left, cursor, stats);
  }
  return OkStatus();
}

}  // namespace

Status AdasumPair(DataType dtype, void* a, const void* b, size_t n) {
  LOOM_RETURN_IF_ERROR(CheckType(dtype));
  if (n > 0 && (a == nullptr || b == nullptr)) return InvalidArgumentError("adasum: null tensor");
  auto* x = static_cast<std::byte*>(a);
  auto* y = static_cast<const std::byte*>(b);
  Stats s = Dots(dtype, x, y, n);
  ScaledAdd(dtype, x, Coefficient(s.dot, s.aa), y, Coefficient(s.dot, s.bb), n);
  return OkStatus();
}

StatusOr<std::unique_ptr<AdasumReducer>> AdasumReducer::Create(comm::Communicator& comm,
                                                               bool fold) {
  const int p = comm.size(), r = comm.rank();
  int pow2 = 1;
  while (pow2 * 2 <= p) pow2 *= 2;
  if (pow2 != p && !fold)
    return InvalidArgumentError(StrCat(
        "adasum: ", p, " ranks is not a power of two; Horovod's VHDD needs 2^k ranks (set "
        "fold_non_power_of_two to fold the extra ", p - pow2, " ranks in first)"));
  std::unique_ptr<AdasumReducer> red(new AdasumReducer(comm, pow2, fold));
  red->vrank_ = r < pow2 ? r : -1;
  if (pow2 != p) {
    LOOM_ASSIGN_OR_RETURN(red->members_, comm.Split(r < pow2 ? 0 : -1, r));
  }
  if (red->vrank_ >= 0) {
    comm::Communicator& members = red->members_ ? *red->members_ : comm;
    for (int d = 1; d < pow2; d *= 2) {
      LOOM_ASSIGN_OR_RETURN(auto level, members.Split(red->vrank_ / (2 * d), red->vrank_));
      red->level_comms_.push_back(std::move(level));
    }
  }
  return red;
}

Status AdasumReducer::Allreduce(std::span<const TensorView> tensors, DataType dtype) {
  return Run(tensors, dtype, /*adasum=*/true);
}

Status AdasumReducer::SumAllreduce(std::span<const TensorView> tensors, DataType dtype) {
  return Run(tensors, dtype, /*adasum=*/false);
}

Status AdasumReducer::Run(std::span<const TensorView> tensors, DataType dtype, bool adasum) {
  LOOM_RETURN_IF_ERROR(CheckType(dtype));
  const size_t es = comm::DataTypeSize(dtype);
  LOOM_ASSIGN_OR_RETURN(internal::FusedList list,
                        internal::DescribeFusedList(tensors, es, "adasum"));
  const std::vector<size_t>& offsets = list.offsets;
  const size_t n = list.count;
  // The fusion buffer: one contiguous vector, as Horovod's. Tensors that already lie back to
  // back in memory (one tensor, or a caller's own fusion buffer) are reduced in place.
  std::byte* buf = list.back_to_back;
  if (buf == nullptr) {
    fusion_.resize(n * es);
    buf = fusion_.data();
    internal::CopyIntoFusion(tensors, list, es, buf);
  }
  const int p = comm_.size(), r = comm_.rank();
  const int tag = comm_.NextTagBase();
  comm::Transport& tr = comm_.transport();
  const std::span<std::byte> whole(buf, n * es);
  if (fold_ && p != pow2_) {
    if (r >= pow2_) {
      LOOM_RETURN_IF_ERROR(tr.Send(r - pow2_, tag, whole));
    } else if (r + pow2_ < p) {
      recv_.resize(n * es);
      LOOM_RETURN_IF_ERROR(tr.Recv(r + pow2_, tag, {recv_.data(), n * es}));
      for (size_t t = 0; t + 1 < offsets.size(); ++t) {
        std::byte* a = buf + offsets[t] * es;
        const std::byte* b = recv_.data() + offsets[t] * es;
        size_t len = offsets[t + 1] - offsets[t];
        if (adasum) LOOM_RETURN_IF_ERROR(AdasumPair(dtype, a, b, len));
        else comm::ReduceInto(dtype, comm::ReduceOp::kSum, a, b, len);
      }
    }
  }
  if (vrank_ >= 0) LOOM_RETURN_IF_ERROR(Vhdd(buf, 0, n, offsets, dtype, adasum));
  if (fold_ && p != pow2_) {
    if (r >= pow2_) LOOM_RETURN_IF_ERROR(tr.Recv(r - pow2_, tag + 1, whole));
    else if (r + pow2_ < p) LOOM_RETURN_IF_ERROR(tr.Send(r + pow2_, tag + 1, whole));
  }
  if (list.back_to_back == nullptr) internal::CopyOutOfFusion(tensors, list, es, buf);
  return OkStatus();
}

Status AdasumReducer::Vhdd(std::byte* buf, size_t seg_lo, size_t seg_hi,
                           const std::vector<size_t>& offsets, DataType dtype, bool adasum) {
  comm::Communicator& members = members_ ? *members_ : comm_;
  comm::Transport& tr = members.transport();
  const int p = pow2_, r = vrank_;
  if (p == 1) return OkStatus();
  const size_t es = comm::DataTypeSize(dtype);
  const int tag = members.NextTagBase();
  const size_t num_tensors = offsets.size() - 1;
  recv_.resize(((seg_hi - seg_lo) / 2 + 1) * es);
  struct Level { size_t lo, hi; };
  std::vector<Level> levels;
  size_t lo = seg_lo, hi = seg_hi;
  std::vector<double> stats;
  int level = 0;
  for (int d = 1; d < p; d *= 2, ++level) {
    const int partner = r ^ d;
    const bool left = (r & d) == 0;
    const size_t mid = lo + (hi - lo) / 2;
    const size_t keep_lo = left ? lo : mid, keep_hi = left ? mid : hi;
    const size_t send_lo = left ? mid : lo, send_hi = left ? hi : mid;
    const std::span<const std::byte> send{buf + send_lo * es, (send_hi - send_lo) * es};
    const std::span<std::byte> recv{recv_.data(), (keep_hi - keep_lo) * es};
    std::byte* a = buf + keep_lo * es;
    const std::byte* b = recv_.data();
    if (!adasum && sum_in_place_ && exchange_ == Exchange::kReadPeer && tr.can_read_peer()) {
      // The baseline given the same reads: window by window into scratch, then reduce.
      LOOM_ASSIGN_OR_RETURN(comm::Transport::PeerReadFn read,
                            tr.ReadPeer(partner, send, recv.size(), tag));
      piece_.resize(kReadWindowBytes);
      const size_t window = kReadWindowBytes / es;
      Status st;
      for (size_t w = keep_lo; st.ok() && w < keep_hi; w += window) {
        const size_t w_hi = std::min(w + window, keep_hi);
        st = read((w - keep_lo) * es, std::span(piece_).first((w_hi - w) * es));
        if (st.ok())
          comm::ReduceInto(dtype, comm::ReduceOp::kSum, a + (w - keep_lo) * es, piece_.data(),
                           w_hi - w);
      }
      Status u = tr.UnmapPeer(partner, tag);
      LOOM_RETURN_IF_ERROR(st);
      LOOM_RETURN_IF_ERROR(u);
    } else if (!adasum && sum_in_place_) {
      LOOM_ASSIGN_OR_RETURN(std::span<const std::byte> theirs, tr.MapPeer(partner, send, recv, tag));
      comm::ReduceInto(dtype, comm::ReduceOp::kSum, a, theirs.data(), keep_hi - keep_lo);
      LOOM_RETURN_IF_ERROR(tr.UnmapPeer(partner, tag));
    } else if (!adasum) {
      LOOM_RETURN_IF_ERROR(tr.SendRecv(partner, send, partner, recv, tag));
      comm::ReduceInto(dtype, comm::ReduceOp::kSum, a, b, keep_hi - keep_lo);
    } else {
      // Per tensor partial dots over the part of it this rank holds, in double.
      stats.assign(3 * num_tensors, 0.0);
      size_t cursor = 0;
      Status st;
      const bool reads = exchange_ == Exchange::kReadPeer && tr.can_read_peer();
      if (reads) {
        // The half lands window by window and each window's dots are taken right after it
        // lands, meant to save the dot pass's read of b from memory (measured no faster than
        // kCopy over MPI: docs/benchmarks.md).
        LOOM_ASSIGN_OR_RETURN(comm::Transport::PeerReadFn read,
                              tr.ReadPeer(partner, send, recv.size(), tag));
        st = LandAndDot(read, recv, kReadWindowBytes, dtype, a, keep_lo, offsets, left, stats);
      } else if (exchange_ == Exchange::kOnArrival) {
        // Each piece of the partner's half as it lands (in cache): the copy and the dot pass
        // read it once between them. Pieces are element-aligned (kVisitPieceBytes % 8 == 0).
        LOOM_RETURN_IF_ERROR(tr.SendRecvVisit(
            partner, send, partner, recv, tag,
            [&](size_t off, std::span<const std::byte> piece) {
              const size_t s = keep_lo + off / es;
              AddStats(dtype, a, keep_lo, b, keep_lo, s, s + piece.size() / es, offsets, left,
                       cursor, stats);
            }));
      } else {
        if (exchange_ != Exchange::kCopy) {
          // The partner's half where it lies until UnmapPeer below (the partner writes it
          // again only in the all-gather): the copy's read and write are saved.
          LOOM_ASSIGN_OR_RETURN(std::span<const std::byte> theirs,
                                tr.MapPeer(partner, send, recv, tag));
          b = theirs.data();
        } else {
          LOOM_RETURN_IF_ERROR(tr.SendRecv(partner, send, partner, recv, tag));
        }
        // On the piece grid of SendRecvVisit, so every exchange adds the same partials in
        // the same order and gives the same bits.
        const size_t piece = comm::Transport::kVisitPieceBytes / es;
        for (size_t s = keep_lo; s < keep_hi; s += piece)
          AddStats(dtype, a, keep_lo, b, keep_lo, s, std::min(s + piece, keep_hi), offsets, left,
                   cursor, stats);
      }
      size_t t0 = 0;
      while (t0 < num_tensors && offsets[t0 + 1] <= keep_lo) ++t0;
      size_t t1 = t0;
      while (t1 < num_tensors && offsets[t1] < keep_hi) ++t1;
      comm::Communicator& group = *level_comms_[static_cast<size_t>(level)];
      if (st.ok())
        st = group.AllReduce(stats.data(), stats.data(), stats.size(), DataType::kF64,
                             comm::ReduceOp::kSum);
      for (size_t t = t0; st.ok() && t < t1; ++t) {
        size_t s = std::max(offsets[t], keep_lo), e = std::min(offsets[t + 1], keep_hi);
        if (e <= s) continue;
        double c_left = Coefficient(stats[3 * t], stats[3 * t + 1]);
        double c_right = Coefficient(stats[3 * t], stats[3 * t + 2]);
        ScaledAdd(dtype, a + (s - keep_lo) * es, left ? c_left : c_right,
                  b + (s - keep_lo) * es, left ? c_right : c_left, e - s);
      }
      // Unmapped on errors too: the partner (which sees the same failure) may still be
      // reading this rank's half, which the caller is free to release once this returns.
      if (exchange_ == Exchange::kInPlace || exchange_ == Exchange::kReadPeer) {
        Status u = tr.UnmapPeer(partner, tag);
        if (st.ok()) st = u;
      }
      LOOM_RETURN_IF_ERROR(st);
    }
    levels.push_back({lo, hi});
    lo = keep_lo;
    hi = keep_hi;
  }
  // All-gather: replay the exchanges in reverse (d = p/2 … 1).
  for (int i = static_cast<int>(levels.size()) - 1; i >= 0; --i) {
    const int d = 1 << i;
    const int partner = r ^ d;
    const bool left = (r & d) == 0;
    Level whole = levels[static_cast<size_t>(i)];
    const size_t mid = whole.lo + (whole.hi - whole.lo) / 2;
    const size_t o_lo = left ? mid : whole.lo, o_hi = left ? whole.hi : mid;
    LOOM_RETURN_IF_ERROR(tr.SendRecv(partner, {buf + lo * es, (hi - lo) * es}, partner,
                                     {buf + o_lo * es, (o_hi - o_lo) * es}, tag + 1));
    lo = whole.lo;
    hi = whole.hi;
  }
  return OkStatus();
}

Status AdasumAllreduce(comm::Communicator& comm, std::span<const TensorView> tensors,
                       const AdasumOptions& options) {
  LOOM_ASSIGN_OR_RETURN(auto reducer, AdasumReducer::Create(comm, options.fold_non_power_of_two));
  return reducer->Allreduce(tensors, options.dtype);
}

}  // namespace loom::adasum
