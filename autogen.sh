#!/bin/sh
# Copyright 2026 The vmidl authors
# SPDX-License-Identifier: LGPL-2.1-or-later
cd "$(dirname "$0")" && exec autoreconf -ifv
