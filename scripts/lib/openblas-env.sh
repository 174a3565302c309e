# Sourced by the benchmark scripts that run Debian's numpy/PyTorch on OpenBLAS.
# OpenBLAS 0.3.21 (Debian 12) does not recognise this machine's CPU (cpuinfo says only "Intel(R) Xeon(R) Processor",
# with AVX-512 incl. FP16) and falls back to its generic "Prescott" kernels: SGEMM at 13-27 GFLOP/s on one core
# instead of 72-88 with the SkylakeX kernels (docs/benchmarks.md "GEMMs against OpenBLAS"). A fair baseline needs
# the right kernels, so when OpenBLAS would pick Prescott we name the core type the CPU flags allow, unless the
# caller set OPENBLAS_CORETYPE already. Prints what it chose on stderr.
openblas_coretype() {
  [ -n "${OPENBLAS_CORETYPE:-}" ] && { echo "openblas: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE (given)" >&2; return 0; }
  local core
  core="$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import numpy' 2>&1 | sed -n 's/^Core: //p' | head -n 1)"
  if [ "$core" = Prescott ]; then
    if grep -qw avx512f /proc/cpuinfo; then
      export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo; then
      export OPENBLAS_CORETYPE=Haswell
    fi
    echo "openblas: detected core '$core' (generic kernels); using OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" >&2
  else
    echo "openblas: detected core '${core:-unknown}'" >&2
  fi
}
