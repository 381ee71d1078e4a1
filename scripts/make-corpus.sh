#!/usr/bin/env bash
# Builds the w2v English corpus (docs/systems/w2v.md section 5) from Debian packages on this
# machine: dict-gcide, linux-doc, perl-doc, python3-doc and wordnet-base are fetched with
# `apt-get download` (not installed) and unpacked into a temporary directory; markup is
# stripped, text lower-cased, everything but a-z mapped to space, files read in sorted
# (LC_ALL=C) order; each source line stays a line (word2vec.c turns newlines into </s>).
# Never commit the output. Usage: scripts/make-corpus.sh OUT.txt
# Writes OUT.txt and OUT.txt.manifest (package versions, line/token counts, sha256).
set -euo pipefail
out=${1:?usage: $0 OUT.txt}
export LC_ALL=C
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkgs=(dict-gcide linux-doc perl-doc python3-doc wordnet-base)
# linux-doc and python3-doc are versioned in Debian 12 (linux-doc-6.1, python3.11-doc): pick
# the package their metapackage depends on.
resolve() {
  local p=$1 dep
  dep=$(apt-cache depends "$p" 2>/dev/null | awk '/Depends:/ {print $2; exit}')
  if [[ "$p" == linux-doc || "$p" == python3-doc ]] && [[ -n "$dep" ]]; then echo "$dep"; else echo "$p"; fi
}
cd "$work"
manifest=()
for p in "${pkgs[@]}"; do
  real=$(resolve "$p")
  apt-get download -qq "$real" >/dev/null
  deb=$(ls "${real}"_*.deb | head -1)
  manifest+=("$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)")
  mkdir -p "x/$real"
  dpkg-deb -x "$deb" "x/$real"
done
# Text-bearing files per package, in sorted order; compressed files are decompressed.
list() {
  find x/dict-gcide -type f -name 'gcide*' -o -path '*dict-gcide*' -name '*.dz' -type f
  find x/linux-doc* -type f \( -name '*.rst' -o -name '*.rst.gz' -o -name '*.txt' -o -name '*.txt.gz' \)
  find x/perl-doc -type f \( -name '*.pod' -o -name '*.pod.gz' \)
  find x/python3*-doc -type f \( -name '*.txt' -o -name '*.rst' -o -name '*.txt.gz' \)
  find x/wordnet-base -type f -name 'data.*'
}
list | sort -u > files.txt
: > "$out.tmp"
while IFS= read -r f; do
  case "$f" in
    *.gz|*.dz) zcat -f "$f" ;;
    *) cat "$f" ;;
  esac |
    # wordnet data lines: keep the gloss after '|'; other markup is removed by the a-z filter.
    { if [[ "$f" == *wordnet-base*data.* ]]; then sed -n 's/^[0-9].*| //p'; else cat; fi; } |
    sed -e 's/<[^>]*>/ /g' |
    tr 'A-Z' 'a-z' | tr -c 'a-z\n' ' ' | tr -s ' ' |
    sed -e 's/^ //' -e 's/ $//' | grep -v '^$' >> "$out.tmp" || true
done < files.txt
mv "$out.tmp" "$out"
lines=$(wc -l < "$out")
tokens=$(wc -w < "$out")
{
  printf 'packages:\n'; printf '  %s\n' "${manifest[@]}"
  printf 'files: %s\nlines: %s\ntokens: %s\nbytes: %s\n' "$(wc -l < files.txt)" "$lines" "$tokens" "$(stat -c %s "$out")"
  printf 'sha256: %s\n' "$(sha256sum "$out" | cut -d' ' -f1)"
  printf 'script: scripts/make-corpus.sh\n'
} > "$out.manifest"
cat "$out.manifest"
