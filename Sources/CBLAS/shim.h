// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, found through pkg-config "openblas").
#include <cblas.h>
// Threads OpenBLAS may use; lmdbg sets it from --threads.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
