#ifndef SAFESHARE_GATEWAY_STORE_SQLITE_STORE_H_
#define SAFESHARE_GATEWAY_STORE_SQLITE_STORE_H_

// The embedded back-end now lives in gateway/store/sqlite/.
#include "gateway/store/sqlite/sqlite_store.h"  // IWYU pragma: export

#endif  // SAFESHARE_GATEWAY_STORE_SQLITE_STORE_H_
