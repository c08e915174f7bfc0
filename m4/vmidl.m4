dnl VMIDL_CHECK_CFLAG(FLAG, ACTION-IF-ACCEPTED)
dnl Runs ACTION when the C compiler accepts FLAG without a warning.
dnl
dnl Copyright 2026 The vmidl authors
dnl SPDX-License-Identifier: LGPL-2.1-or-later
AC_DEFUN([VMIDL_CHECK_CFLAG],
[AS_VAR_PUSHDEF([ac_var], [vmidl_cv_cflag_$1])dnl
AC_CACHE_CHECK([whether $CC accepts $1], [ac_var],
[vmidl_save_CFLAGS=$CFLAGS
CFLAGS="$CFLAGS -Werror $1"
AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [AS_VAR_SET([ac_var], [yes])], [AS_VAR_SET([ac_var], [no])])
CFLAGS=$vmidl_save_CFLAGS])
AS_VAR_IF([ac_var], [yes], [$2])
AS_VAR_POPDEF([ac_var])])

dnl VMIDL_MISSING(WHAT, DEBIAN-PACKAGE)
dnl Records a missing requirement; configure names them all, with their
dnl packages, in one error.
dnl One command, so that "test ... || VMIDL_MISSING(...)" works.
AC_DEFUN([VMIDL_MISSING],
[{ vmidl_missing="$vmidl_missing
    $1 (Debian: $2)"
  AS_CASE([" $vmidl_missing_packages "], [*" $2 "*], [],
      [vmidl_missing_packages="$vmidl_missing_packages $2"])
}])

dnl VMIDL_EXPAND_DIR(VARIABLE, VALUE)
dnl Sets VARIABLE to VALUE with ${prefix} and the like expanded, for messages.
AC_DEFUN([VMIDL_EXPAND_DIR],
[test "x$exec_prefix" = xNONE && exec_prefix='${prefix}'
$1=$2
while :; do
    case $[$1] in
    *'${'*) eval $1="$[$1]" ;;
    *) break ;;
    esac
done])
