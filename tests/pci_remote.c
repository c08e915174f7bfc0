/*
 * tests/pci.c again, with the device's engine in a driver of another
 * process (see START_DEVICE_TEST in vmidl_test.h).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define VMIDL_TEST_REMOTE
#include "pci.c"
