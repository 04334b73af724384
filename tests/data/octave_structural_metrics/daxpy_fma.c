/* daxpy with a fused multiply-add for every element (as OpenBLAS's AVX-512 kernels do);
   LD_PRELOADed into Octave to emulate the golden values' BLAS on a machine without AVX-512. */
#include <math.h>
void daxpy_(const int *n, const double *da, const double *dx, const int *incx, double *dy, const int *incy) {
    int i, ix = 0, iy = 0;
    if (*n <= 0 || *da == 0.0) return;
    if (*incx == 1 && *incy == 1) { for (i = 0; i < *n; i++) dy[i] = fma(*da, dx[i], dy[i]); return; }
    if (*incx < 0) ix = (1 - *n) * *incx;
    if (*incy < 0) iy = (1 - *n) * *incy;
    for (i = 0; i < *n; i++, ix += *incx, iy += *incy) dy[iy] = fma(*da, dx[ix], dy[iy]);
}
