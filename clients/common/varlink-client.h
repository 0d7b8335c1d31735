/* placeholder: replaced by the clients work */
#pragma once
