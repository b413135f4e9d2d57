#ifndef CONDUIT_CSQLITE3_SHIM_H
#define CONDUIT_CSQLITE3_SHIM_H
// The system's SQLite (Debian: libsqlite3-dev), the one copy of SQLite that Conduit's connections use.
#include <sqlite3.h>
#endif
