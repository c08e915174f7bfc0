/*
 * Shared setup of the vmidl conformance tests.
 */

#include "wine/test.h"
#include "vmidl_test.h"

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
