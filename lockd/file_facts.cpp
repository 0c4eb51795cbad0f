#include "lockd/file_facts.h"

#include <sys/stat.h>

namespace lockd {

bool FileFacts::regular() const { return S_ISREG(mode); }

}  // namespace lockd
