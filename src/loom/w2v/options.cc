#include "loom/w2v/options.h"

#include "loom/base/strings.h"

namespace loom::w2v {

Status TrainOptions::Validate() const {
  if (dim < 1 || dim > 100000) return InvalidArgumentError(StrCat("-size ", dim, " not in [1, 100000]"));
  if (window < 1 || window > 1000) return InvalidArgumentError(StrCat("-window ", window, " not in [1, 1000]"));
  if (negative < 0 || negative > 1000) return InvalidArgumentError(StrCat("-negative ", negative, " not in [0, 1000]"));
  if (!hs && negative == 0) return InvalidArgumentError("need -hs 1 or -negative > 0");
  if (threads < 1 || threads > 1024) return InvalidArgumentError(StrCat("-threads ", threads, " not in [1, 1024]"));
  if (iter < 1) return InvalidArgumentError(StrCat("-iter ", iter, " must be >= 1"));
  if (min_count < 0) return InvalidArgumentError("-min-count must be >= 0");
  if (sample < 0) return InvalidArgumentError("-sample must be >= 0");
  if (!(starting_alpha() > 0) || starting_alpha() > 10) return InvalidArgumentError("-alpha must be in (0, 10]");
  if (mode == Mode::kBatched) {
    if (cbow) return InvalidArgumentError("--mode batched is skip-gram only (pass -cbow 0)");
    if (hs) return InvalidArgumentError("--mode batched supports negative sampling only (-hs 0)");
    if (batch_size < 1 || batch_size > 1024) return InvalidArgumentError("--batch-size not in [1, 1024]");
  }
  return OkStatus();
}

}  // namespace loom::w2v
