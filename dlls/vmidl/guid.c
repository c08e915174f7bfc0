/* Instantiates the GUIDs declared in vmfiov.h. */

#include <stdarg.h>

#include "windef.h"
#include "winbase.h"
#include "objbase.h"
#include "initguid.h"
#include "vmfiov.h"
