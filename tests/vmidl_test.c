/*
 * Shared setup of the vmidl conformance tests.
 */

#include "wine/test.h"
#include "vmidl_test.h"

BOOL create_guest_(const char *file, int line, struct guest *guest)
{
    HRESULT hr = guest_create(guest, &guest_image_interp);
    ok_(file, line)(hr == S_OK, "cannot create a guest, hr %#lx\n", hr);
    return SUCCEEDED(hr);
}

BOOL init_device_test(struct guest *guest, struct mmio_log *log, const GUID *instance, REFIID iid,
        IUnknown **device, void **iface)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    HRESULT hr;

    if (!init_guest_test(guest)) return FALSE;
    mmio_log_init(log);
    guest_device_desc(&desc, instance, log, GUEST_BAR_BASE);
    hr = pVmidlAddFlexIoDevice(guest->partition, &desc, device);
    ok(hr == S_OK, "cannot add the device, hr %#lx\n", hr);
    hr = guest_get_device_interface(guest->partition, instance, iid, iface);
    ok(hr == S_OK, "cannot get the device interface, hr %#lx\n", hr);
    return TRUE;
}

BOOL init_guest_test(struct guest *guest)
{
    HRESULT hr;

    memset(guest, 0, sizeof(*guest));
    if (!guest_load_host_api())
    {
        win_skip("vmidl partition host API not available\n");
        return FALSE;
    }
    hr = guest_create(guest, &guest_image_interp);
    if (guest_hr_is_no_kvm(hr))
    {
        skip("KVM is not usable here (hr %#lx)\n", hr);
        return FALSE;
    }
    ok(hr == S_OK, "cannot create a guest, hr %#lx\n", hr);
    return SUCCEEDED(hr);
}
