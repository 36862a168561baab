#!/usr/bin/env bash
# Builds the patched, minimal, static PIC FFmpeg 5.1.x that every codecprep artefact links.
#
#   ffmpeg/build.sh            builds (or reuses) the cache entry and prints its prefix
#
# Source, in order of preference:
#   1. $FFMPEG_SRC: an unpacked FFmpeg 5.1.x directory or a release tarball;
#   2. a source tarball obtained earlier and kept in the cache;
#   3. the distribution's source package (apt-get source --download-only ffmpeg), adding
#      deb-src entries derived from the machine's apt sources when there are none;
#   4. the official release tarball (for machines outside Debian).
# The build lands in $CODECPREP_CACHE (default ~/.cache/codecprep) under a directory keyed by
# the FFmpeg version and a hash of the patch series and the configure flags, so a
# rerun with nothing changed only checks a stamp file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CODECPREP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codecprep}
srccache="$cache/ffmpeg-src"
fallback_version=${FFMPEG_FALLBACK_VERSION:-5.1.6}
mkdir -p "$srccache"

log() { echo "ffmpeg/build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

configure_flags=(
  --disable-shared --enable-static --enable-pic
  --disable-programs --disable-doc --disable-debug --disable-autodetect --disable-network
  --disable-everything
  --disable-avdevice --disable-avfilter --disable-postproc --disable-swresample
  --enable-avcodec --enable-avformat --enable-swscale
  --enable-decoder=h264,hevc,vp9
  --enable-parser=h264,hevc,vp9,aac,flac,mpegaudio
  # The audio demuxers (and the parsers that fill in their stream parameters) let
  # blink-stitch probe standalone audio in-process; no audio decoder is built.
  --enable-demuxer=mov,matroska,ivf,h264,hevc,mpegts,wav,flac,mp3,aac,ogg
  --enable-protocol=file
  --enable-x86asm
)

# --- 1. locate a source tarball or directory -------------------------------------------------
find_cached_tarball() {
  { ls -1 "$srccache"/ffmpeg_5.1.*.orig.tar.xz "$srccache"/ffmpeg-5.1.*.tar.xz 2>/dev/null || true; } | sort -V | tail -n1
}

enable_deb_src() {
  # Debian 12 writes deb822 files; older setups use sources.list lines. Mirror both as deb-src.
  local out=/etc/apt/sources.list.d/codecprep-deb-src.sources
  [ -e "$out" ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    for f in /etc/apt/sources.list.d/*.sources; do
      [ "$f" = "$out" ] && continue
      awk 'BEGIN{RS="";ORS="\n\n"} /(^|\n)Types:[^\n]*deb([ \n]|$)/ && !/deb-src/ {sub(/Types:[^\n]*/,"Types: deb-src"); print}' "$f"
    done | $sudo tee "$out" >/dev/null
  fi
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^\s*deb\s' /etc/apt/sources.list | sed -E 's/^\s*deb\s/deb-src /' \
      | $sudo tee /etc/apt/sources.list.d/codecprep-deb-src.list >/dev/null || true
  fi
  $sudo apt-get update -q >&2
}

fetch_distribution_source() {
  command -v apt-get >/dev/null || return 1
  local tmp; tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get source --download-only ffmpeg >&2 2>/dev/null); then
    enable_deb_src || return 1
    (cd "$tmp" && apt-get source --download-only ffmpeg >&2) || return 1
  fi
  local orig; orig=$(ls "$tmp"/ffmpeg_5.1.*.orig.tar.xz 2>/dev/null | head -n1)
  [ -n "$orig" ] || { log "the distribution's ffmpeg source is not 5.1.x"; return 1; }
  mv "$orig" "$srccache/"
  rm -rf "$tmp"
}

fetch_release_tarball() {
  local name="ffmpeg-$fallback_version.tar.xz"
  local url="https://ffmpeg.org/releases/$name"
  log "downloading $url"
  if command -v curl >/dev/null; then curl -fsSL -o "$srccache/$name.part" "$url"
  else wget -q -O "$srccache/$name.part" "$url"; fi
  mv "$srccache/$name.part" "$srccache/$name"
}

source_path=""
if [ -n "${FFMPEG_SRC:-}" ]; then
  [ -e "$FFMPEG_SRC" ] || die "FFMPEG_SRC=$FFMPEG_SRC does not exist"
  source_path=$FFMPEG_SRC
else
  source_path=$(find_cached_tarball)
  if [ -z "$source_path" ]; then
    fetch_distribution_source || fetch_release_tarball || die "could not obtain FFmpeg 5.1.x source"
    source_path=$(find_cached_tarball)
  fi
fi

# --- 2. version and cache key --------------------------------------------------------------
version_of() {
  if [ -d "$1" ]; then cat "$1/RELEASE"
  else tar -xOf "$1" --wildcards '*/RELEASE' 2>/dev/null | head -n1; fi
}
case "$source_path" in
  *.orig.tar.xz) version=$(basename "$source_path" | sed -E 's/^ffmpeg_([0-9.]+)\.orig.*/\1/') ;;
  *ffmpeg-5.1*.tar.*) version=$(basename "$source_path" | sed -E 's/^ffmpeg-([0-9.]+)\.tar.*/\1/') ;;
  *) version=$(version_of "$source_path") ;;
esac
[[ "$version" == 5.1* ]] || die "$source_path is FFmpeg '$version', codecprep needs 5.1.x"

# Sets patches, key and prefix from the patch series as it is now.
locate_prefix() {
  shopt -s nullglob
  patches=("$here"/patches/*.patch)
  shopt -u nullglob
  key=$( { echo "$version"; printf '%s\n' "${configure_flags[@]}"; cat "${patches[@]}"; } \
         | sha256sum | cut -c1-16)
  prefix="$cache/ffmpeg-$version-$key"
}
locate_prefix
if [ -f "$prefix/.complete" ]; then
  echo "$prefix"
  exit 0
fi

# --- 3. unpack, patch, build ---------------------------------------------------------------
# One build at a time per cache: parallel callers (make -j, test runners) wait here, then look
# again (the patches may have changed meanwhile) and find the finished entry.
exec 9>"$cache/.build.lock"
flock 9
locate_prefix
if [ -f "$prefix/.complete" ]; then
  echo "$prefix"
  exit 0
fi
command -v nasm >/dev/null || die "nasm is missing (scripts/install-deps.sh installs it)"
work="$cache/build-$version-$key"
rm -rf "$work" "$prefix"
mkdir -p "$work"
if [ -d "$source_path" ]; then
  cp -a "$source_path/." "$work/"
else
  tar -xf "$source_path" -C "$work" --strip-components=1
fi
for p in "${patches[@]}"; do
  log "applying $(basename "$p")"
  patch -d "$work" -p1 --forward --batch --quiet < "$p" || die "patch $(basename "$p") does not apply to $version"
done
log "configuring FFmpeg $version into $prefix"
(cd "$work" && ./configure --prefix="$prefix" "${configure_flags[@]}" >"$work/configure.log" 2>&1) \
  || { tail -n 30 "$work/config.log" >&2; die "configure failed (see $work/config.log)"; }
log "building (make -j$(nproc))"
(cd "$work" && make -j"$(nproc)" >"$work/make.log" 2>&1 && make install >>"$work/make.log" 2>&1) \
  || { grep -m 20 -E 'error|Error' "$work/make.log" >&2 || true; die "build failed (see $work/make.log)"; }
touch "$prefix/.complete"
rm -rf "$work"
echo "$prefix"
