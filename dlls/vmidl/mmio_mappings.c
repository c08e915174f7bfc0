/*
 * IVmFiovGuestMmioMappings: section-backed ranges of a device BAR, mapped
 * into the guest through KVM memslots.
 *
 * Errors, besides those of every call (E_OUTOFMEMORY, ERROR_DEVICE_REMOVED):
 *   E_INVALIDARG   unknown BAR or one the device lacks; unknown flags;
 *                  PageCount 0; range not inside the BAR; page arithmetic
 *                  overflowing 64 bits; section too small for
 *                  SectionOffsetInPages + PageCount; an image section, or
 *                  pages of the section that are not committed.
 *   E_HANDLE       SectionHandle is not a valid section handle (NULL,
 *                  closed, INVALID_HANDLE_VALUE, another object type).
 *   E_ACCESSDENIED the handle lacks SECTION_MAP_READ or, for Writeable,
 *                  SECTION_MAP_WRITE, or the section cannot be mapped
 *                  writeable (a read-only file).
 *   HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)  the range covers a byte of a
 *                  range or a doorbell already on the BAR.
 *   HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES)  KVM has no free memslot.
 *   HRESULT_FROM_WIN32(ERROR_NOT_FOUND)  Destroy: no range starts there.
 *
 * The range keeps its own view of the section: the caller may close its
 * handle, and Wine refuses to shrink the file meanwhile.  Without Writeable
 * the memslot is read-only: guest writes exit to the device's MMIO callback
 * and the section is unchanged.  Executable is accepted, and so is its
 * absence: KVM memslots have no execute permission, so the guest can always
 * execute from a mapped range; guest page tables are the only control.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define FIOV_MMIO_MAPPING_FLAGS (FiovMmioMappingFlagWriteable | FiovMmioMappingFlagExecutable)
#define MAX_PAGES ((UINT64)MAXLONGLONG / FIOV_PAGE_SIZE)

static inline struct device *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI mmio_mappings_CreateSectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages, UINT64 page_count, FiovMmioMappingFlags flags,
        HANDLE section, UINT64 section_offset_pages)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    struct range_create_params params;

    TRACE("device %p, bar %u, bar_offset_pages %#I64x, page_count %#I64x, flags %#x, section %p, "
            "section_offset_pages %#I64x\n", device, bar, bar_offset_pages, page_count, flags, section,
            section_offset_pages);

    if (!page_count || bar_offset_pages > MAX_PAGES || page_count > MAX_PAGES - bar_offset_pages
            || section_offset_pages > MAX_PAGES || page_count > MAX_PAGES - section_offset_pages
            || (flags & ~FIOV_MMIO_MAPPING_FLAGS))
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }

    params.vm = device->partition->unix_vm;
    params.device = device->unix_device;
    params.bar = bar;
    params.writable = !!(flags & FiovMmioMappingFlagWriteable);
    params.bar_offset = bar_offset_pages * FIOV_PAGE_SIZE;
    params.size = page_count * FIOV_PAGE_SIZE;
    params.section = (ULONG_PTR)section;
    params.section_offset = section_offset_pages * FIOV_PAGE_SIZE;
    return hresult_from_status(VMIDL_CALL(range_create, &params));
}

static HRESULT WINAPI mmio_mappings_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    struct range_destroy_params params;

    TRACE("device %p, bar %u, bar_offset_pages %#I64x\n", device, bar, bar_offset_pages);

    if (bar_offset_pages > MAX_PAGES)
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }
    params.vm = device->partition->unix_vm;
    params.device = device->unix_device;
    params.bar = bar;
    params.bar_offset = bar_offset_pages * FIOV_PAGE_SIZE;
    return hresult_from_status(VMIDL_CALL(range_destroy, &params));
}

const IVmFiovGuestMmioMappingsVtbl device_mmio_mappings_vtbl =
{
    device_QueryInterface,
    device_AddRef,
    device_Release,
    mmio_mappings_CreateSectionBackedMmioRange,
    mmio_mappings_DestroySectionBackedMmioRange,
};
