# Thin Meson subprojects that stand in for mediasoup's downloaded ones by wrapping Debian's
# system libraries (pkg-config). Sourced by build.sh.

# usage: shim <subprojects_dir> <name> "<meson options>" "<pkg-config names>" "<dep vars>" "<static lib vars>"
# Exposes the variables mediasoup's meson.build expects: a dependency and empty static libs for link_whole.
shim() {
  local sp="$1" name="$2" opts="$3" pkgs="$4" depvar="$5" libvars="$6"
  rm -f "$sp/$name.wrap"; rm -rf "$sp/$name"; mkdir -p "$sp/$name"
  : > "$sp/$name/meson_options.txt"
  for o in $opts; do
    echo "option('$o', type: 'string', value: '', description: 'ignored (system shim)')" >> "$sp/$name/meson_options.txt"
  done
  echo "/* empty: real code comes from system library */" > "$sp/$name/shim.c"
  {
    echo "project('$name', 'c', version: 'system')"
    echo "_deps = []"
    for p in $pkgs; do echo "_deps += dependency('$p')"; done
    echo "_shim_dep = declare_dependency(dependencies: _deps)"
    for d in $depvar; do echo "$d = _shim_dep"; done
    for l in $libvars; do echo "$l = static_library('${l}_shim', 'shim.c')"; done
  } > "$sp/$name/meson.build"
}


# libsrtp3 shim for mediasoup 3.16-3.22 (libsrtp 3.0.0-beta "versatica" API, struct srtp_policy_t):
# out-of-place (un)protect with size_t lengths, srtp_stream_remove(), two new error codes.
# Implemented on top of Debian's libsrtp 2.5 (in-place, int* lengths).
shim_srtp3() {
  local sp="$1" name="$2"
  shim "$sp" "$name" "crypto-library crypto-library-kdf tests" "libsrtp2" "${name}_dep_sys" "$name"
  mkdir -p "$sp/$name/include"
  cat > "$sp/$name/include/srtp.h" <<'H'
#pragma once
#include <srtp2/srtp.h>
#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <climits>
// Error codes added in libsrtp 3 (values as in libsrtp 3.0).
#define srtp_err_status_buffer_small static_cast<srtp_err_status_t>(28)
#define srtp_err_status_cryptex_err static_cast<srtp_err_status_t>(29)
#define MS_SRTP3_WRAP_PROTECT(fn)                                                               \
  inline srtp_err_status_t fn(srtp_t ctx, const uint8_t* in, size_t in_len, uint8_t* out,       \
                              size_t* out_len, size_t /*mki_index*/)                            \
  {                                                                                             \
    if (in_len > INT_MAX || *out_len < in_len + SRTP_MAX_TRAILER_LEN)                           \
      return srtp_err_status_buffer_small;                                                      \
    if (out != in) std::memmove(out, in, in_len);                                               \
    int l = static_cast<int>(in_len);                                                           \
    srtp_err_status_t e = ::fn(ctx, out, &l);                                                   \
    if (e == srtp_err_status_ok) *out_len = static_cast<size_t>(l);                             \
    return e;                                                                                   \
  }
#define MS_SRTP3_WRAP_UNPROTECT(fn)                                                             \
  inline srtp_err_status_t fn(srtp_t ctx, const uint8_t* in, size_t in_len, uint8_t* out,       \
                              size_t* out_len)                                                  \
  {                                                                                             \
    if (in_len > INT_MAX || *out_len < in_len) return srtp_err_status_buffer_small;            \
    if (out != in) std::memmove(out, in, in_len);                                               \
    int l = static_cast<int>(in_len);                                                           \
    srtp_err_status_t e = ::fn(ctx, out, &l);                                                   \
    if (e == srtp_err_status_ok) *out_len = static_cast<size_t>(l);                             \
    return e;                                                                                   \
  }
MS_SRTP3_WRAP_PROTECT(srtp_protect)
MS_SRTP3_WRAP_PROTECT(srtp_protect_rtcp)
MS_SRTP3_WRAP_UNPROTECT(srtp_unprotect)
MS_SRTP3_WRAP_UNPROTECT(srtp_unprotect_rtcp)
#undef MS_SRTP3_WRAP_PROTECT
#undef MS_SRTP3_WRAP_UNPROTECT
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
  return srtp_remove_stream(session, ssrc);
}
#endif
H
  echo "${name}_dep = declare_dependency(dependencies: ${name}_dep_sys, include_directories: include_directories('include'))" >> "$sp/$name/meson.build"
}

