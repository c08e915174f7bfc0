/*
 * IVmFiovGuestMmioMappings: section-backed ranges of a device BAR, mapped
 * into the guest through KVM memslots.
 *
 * Errors, besides those of every call (E_OUTOFMEMORY, ERROR_DEVICE_REMOVED):
 *   E_INVALIDARG   unknown BAR or one the device lacks; unknown flags;
 *                  PageCount 0; range not inside the BAR; page arithmetic
 *                  overflowing 64 bits; section too small for
 *                  SectionOffsetInPages + PageCount; image section.
 *   E_HANDLE       SectionHandle is not a valid section handle (NULL,
 *                  closed, INVALID_HANDLE_VALUE, another object type).
 *   E_ACCESSDENIED the handle lacks SECTION_QUERY, SECTION_MAP_READ or, for
 *                  Writeable, SECTION_MAP_WRITE, or the section cannot be
 *                  mapped writeable (a read-only file).
 *   HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)  the range overlaps a range or
 *                  a doorbell already on the BAR.
 *   HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES)  KVM has no free memslot.
 *   HRESULT_FROM_WIN32(ERROR_NOT_FOUND)  Destroy: no range starts there.
 *
 * Without Writeable the memslot is read-only: guest writes exit to the
 * device's MMIO callback and the section is unchanged.  Executable is
 * accepted, and so is its absence: KVM memslots have no execute permission,
 * so the guest can always execute from a mapped range; guest page tables
 * are the only control.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define FIOV_MMIO_MAPPING_FLAGS (FiovMmioMappingFlagWriteable | FiovMmioMappingFlagExecutable)
#define MAX_SECTION_PAGES ((UINT64)MAXLONGLONG / FIOV_PAGE_SIZE)

static inline struct device *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmFiovGuestMmioMappings_iface);
}

static BOOL bar_page_range_is_valid(const struct device *device, FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 count)
{
    UINT64 bar_pages;

    if (!device_bar_is_valid(device, bar)) return FALSE;
    bar_pages = device->desc.BarSize[bar] / FIOV_PAGE_SIZE;
    return count && offset < bar_pages && count <= bar_pages - offset;
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

    if (!bar_page_range_is_valid(device, bar, bar_offset_pages, page_count) || (flags & ~FIOV_MMIO_MAPPING_FLAGS)
            || section_offset_pages > MAX_SECTION_PAGES || page_count > MAX_SECTION_PAGES - section_offset_pages)
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }

    params.device = device->unix_device;
    params.bar = bar;
    params.writable = !!(flags & FiovMmioMappingFlagWriteable);
    params.bar_offset = bar_offset_pages * FIOV_PAGE_SIZE;
    params.size = page_count * FIOV_PAGE_SIZE;
    params.section = (ULONG_PTR)section;
    params.section_offset = section_offset_pages * FIOV_PAGE_SIZE;

    return partition_unix_call(device->partition, unix_range_create, &params.vm);
}

static HRESULT WINAPI mmio_mappings_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    struct range_destroy_params params;

    TRACE("device %p, bar %u, bar_offset_pages %#I64x\n", device, bar, bar_offset_pages);

    if (!bar_page_range_is_valid(device, bar, bar_offset_pages, 1))
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }

    params.device = device->unix_device;
    params.bar = bar;
    params.bar_offset = bar_offset_pages * FIOV_PAGE_SIZE;

    return partition_unix_call(device->partition, unix_range_destroy, &params.vm);
}

const IVmFiovGuestMmioMappingsVtbl device_mmio_mappings_vtbl =
{
    device_QueryInterface,
    device_AddRef,
    device_Release,
    mmio_mappings_CreateSectionBackedMmioRange,
    mmio_mappings_DestroySectionBackedMmioRange,
};
