#include "varlink-client.h"
