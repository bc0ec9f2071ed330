// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Claim and release mechanics (SPEC §7): only driver_override, unbind and drivers_probe, for
 * vfio-pci or a VFIO variant driver; and an SR-IOV PF's sriov_drivers_autoprobe.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "modload.h"

static int fail(struct bind_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->step, sizeof(err->step), fmt, ap);
	va_end(ap);
	return r;
}

static int load_module(struct modules *mods, const char *name, struct bind_error *err)
{
	int r = modload_ensure(mods, name);

	if (r == -EOPNOTSUPP)
		return fail(err, r, "load module '%s' (not loaded under '%s')", name, root_get());
	if (r == -ENOENT)
		return fail(err, r, "load module '%s' (not found for this kernel)", name);
	if (r < 0)
		return fail(err, r, "load module '%s'", name);
	return 0;
}

static int write_dev_attr(const struct pci_dev *d, const char *attr, const char *value)
{
	char *p = pci_sys_path(d, attr);
	int r = write_attr(p, value);

	free(p);
	return r;
}

static int write_bus_attr(const char *rel, const char *value)
{
	char *p = root_path("/sys/bus/pci/%s", rel);
	int r = write_attr(p, value);

	free(p);
	return r;
}

static int unbind(struct pci_dev *d)
{
	char *rel = xasprintf("drivers/%s/unbind", d->driver);
	int r = write_bus_attr(rel, d->addr);

	free(rel);
	return r;
}

/*
 * The driver a loaded module registers on the PCI bus: /sys/module/MODULE/drivers/pci:NAME,
 * else the module's name (every VFIO variant driver is named after its module).
 */
static char *pci_driver_of_module(const char *module)
{
	char *p = root_path("/sys/module/%s/drivers", module), *name = NULL;
	DIR *dir = opendir(p);
	struct dirent *de;

	while (dir && !name && (de = readdir(dir)))
		if (strncmp(de->d_name, "pci:", 4) == 0 && de->d_name[4])
			name = xstrdup(de->d_name + 4);
	if (dir)
		closedir(dir);
	free(p);
	return name ? name : xstrdup(module);
}

int bind_claim(struct modules *mods, struct pci_dev *d, const char *module, struct bind_error *err)
{
	char *driver = NULL;
	int r;

	if (!module)
		module = "vfio-pci";
	r = pci_refresh_driver(d);
	if (r < 0)
		return fail(err, r, "read the driver link");
	if (pci_on_vfio(d))
		return 0; /* idempotent: on vfio-pci or a variant of it already, nothing to do */

	/* modules first: a failure here leaves the device with its host driver */
	r = load_module(mods, module, err);
	if (r == 0)
		r = load_module(mods, "vfio_iommu_type1", err);
	if (r < 0)
		return r;
	driver = streq(module, "vfio-pci") ? xstrdup(module) : pci_driver_of_module(module);
	r = write_dev_attr(d, "driver_override", driver);
	if (r < 0) {
		r = fail(err, r, "write '%s' to driver_override", driver);
		goto out;
	}
	if (d->driver) {
		char *host = xstrdup(d->driver);
		r = unbind(d);
		if (r < 0) {
			/* leave the device as it was: its host driver keeps it */
			write_dev_attr(d, "driver_override", "\n");
			r = fail(err, r, "unbind from '%s'", host);
			free(host);
			goto out;
		}
		free(host);
	}
	r = write_bus_attr("drivers_probe", d->addr);
	pci_refresh_driver(d);
	if (d->driver && streq(d->driver, driver)) {
		r = 0;
		goto out;
	}
	/* vfio-pci will not bind without an IOMMU; the override keeps host drivers off */
	if (d->iommu_group < 0 && !d->driver) {
		r = 1;
		goto out;
	}
	if (r < 0)
		r = fail(err, r, "probe with %s", driver);
	else
		r = fail(err, -EIO, "verify: driver is '%s' after probe, not '%s'",
			 d->driver ? d->driver : "none", driver);
out:
	free(driver);
	return r;
}

/*
 * The module to load for a device's host driver: what its modalias resolves to (blacklists
 * honoured); the one recorded at claim time only if it is one of those, since the state
 * directory is not a list of modules to load. NULL: none (a built-in or loaded driver may
 * still take the device).
 */
static char *host_module_for(struct modules *mods, const struct pci_dev *d, const char *recorded)
{
	struct strv found = { 0 };
	char *module = NULL, *modalias = NULL;

	if (pci_read_attr(d, "modalias", &modalias) == 0 &&
	    modload_alias_modules(mods, modalias, &found) == 0)
		module =
		    xstrdup(recorded && strv_contains(&found, recorded) ? recorded : found.v[0]);
	free(modalias);
	strv_free(&found);
	return module;
}

/*
 * The first steps of a release and of a rollback: the override cleared, unbound from vfio-pci.
 * restore: when the unbind fails, write the override back (a release leaves the device
 * claimed as it was); a rollback leaves it cleared, so that nothing keeps the host off later.
 */
static int leave_vfio(struct pci_dev *d, bool restore, struct bind_error *err)
{
	int r = write_dev_attr(d, "driver_override", "\n");

	if (r < 0)
		return fail(err, r, "clear driver_override");
	pci_refresh_driver(d);
	if (pci_on_vfio(d)) {
		char *vfio = xstrdup(d->driver);

		r = unbind(d);
		if (r < 0) {
			if (restore)
				write_dev_attr(d, "driver_override", vfio);
			r = fail(err, r, "unbind from '%s'", vfio);
			free(vfio);
			return r;
		}
		free(vfio);
		pci_refresh_driver(d);
	}
	return 0;
}

/*
 * A VF whose PF has sriov_drivers_autoprobe off is probed by no driver unless its
 * driver_override names one (the kernel's pci_device_can_probe()): name the host driver for
 * the one probe, then clear the override again (module: a module or a driver name). 0, or a
 * negative errno.
 */
static int probe_vf_for(struct pci_dev *d, const char *module)
{
	char *driver = pci_driver_of_module(module);
	int r = write_dev_attr(d, "driver_override", driver);

	if (r == 0) {
		r = write_bus_attr("drivers_probe", d->addr);
		write_dev_attr(d, "driver_override", "\n");
	}
	pci_refresh_driver(d);
	free(driver);
	return r;
}

int bind_pin(const struct pci_dev *d)
{
	return d->driver ? write_dev_attr(d, "driver_override", d->driver) : -EINVAL;
}

int bind_rollback(struct pci_dev *d, const char *host, struct bind_error *err)
{
	int r = leave_vfio(d, false, err);

	if (r < 0)
		return r;
	if (!d->driver) {
		r = write_bus_attr("drivers_probe", d->addr);
		pci_refresh_driver(d);
		/* a VF whose PF's autoprobe is off is probed only through its override */
		if (!d->driver && d->physfn[0] && host)
			r = probe_vf_for(d, host);
		if (r < 0 && !d->driver)
			return fail(err, r, "probe for '%s'", host ? host : "a host driver");
	}
	/* a device that had no driver (its module not loaded yet) may stay without one */
	if (host && (!d->driver || !streq(d->driver, host)))
		return fail(err, -EIO, "verify: driver is '%s' after probe, not '%s'",
			    d->driver ? d->driver : "none", host);
	return 0;
}

int bind_release(struct modules *mods, struct pci_dev *d, const char *host_module,
		 struct bind_error *err)
{
	char *module;
	int r;

	/* load the host module first: a failure then changes nothing */
	module = host_module_for(mods, d, host_module);
	if (module) {
		r = load_module(mods, module, err);
		if (r < 0) {
			free(module);
			return r;
		}
	}
	r = leave_vfio(d, true, err);
	if (r < 0) {
		free(module);
		return r;
	}
	r = write_bus_attr("drivers_probe", d->addr);
	pci_refresh_driver(d);
	if (!d->driver && d->physfn[0] && module)
		r = probe_vf_for(d, module);
	free(module);
	if (pci_on_vfio(d))
		return fail(err, -EBUSY, "verify: still bound to '%s'", d->driver);
	if (r < 0 && r != -ENODEV && !d->driver)
		return fail(err, r, "probe for a host driver");
	return 0;
}

int bind_probe_vf(struct modules *mods, struct pci_dev *d, struct bind_error *err)
{
	char *module = host_module_for(mods, d, NULL);
	int r;

	if (!module)
		return fail(err, -ENOENT, "find a host driver for its modalias");
	r = load_module(mods, module, err);
	if (r == 0) {
		r = probe_vf_for(d, module);
		if (r < 0)
			r = fail(err, r, "probe with '%s'", module);
		else if (!d->driver)
			r = fail(err, -EIO, "verify: no driver after probe with '%s'", module);
	}
	free(module);
	return r;
}

int bind_set_autoprobe(const struct pci_dev *pf, const char *value)
{
	return write_dev_attr(pf, "sriov_drivers_autoprobe", value);
}
