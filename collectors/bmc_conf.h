/* Sources of type "ipmi" (IPMI 2.0 RMCP+ over LAN, FreeIPMI) and
 * "redfish" (HTTPS, libcurl), and their metrics (docs/bmc.md).
 *
 * Source keys, both types:
 *   address      the BMC's address; default the host's address
 *   port         ipmi 623, redfish 443
 *   secrets      a secret file (0600): {"username": ..., "password": ...}
 *   username, password    inline (warned about, as SNMP's community)
 * "ipmi":
 *   cipher_suite 0..17, default 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128)
 *   privilege    "user" (default), "operator", "admin"
 * "redfish":
 *   auth         "session" (default: POST SessionService/Sessions,
 *                X-Auth-Token, re-login on 401) or "basic"
 *   tls_verify   true (default); false must be written per host and is
 *                logged at start
 *   ca_file      PEM bundle to verify the BMC's certificate with
 *
 * Metrics (a string, or an object {"source", "read", "sensor"}):
 *   "power"                1 on, 0 off (chassis / PowerState)
 *   "health"               enum vgl_bmc_state: the worst of the system's
 *                          health and every sensor's state
 *   "sensor:NAME"          the named sensor's reading, in its unit
 *   "sensor_state:NAME"    that sensor's state, enum vgl_bmc_state
 *   "sel_entries"          event-log entries new in this poll (a count)
 * State metrics carry the enum {"ok":0, "warning":1, "critical":2}.
 */
#ifndef VGL_BMC_CONF_H
#define VGL_BMC_CONF_H

#include <stdint.h>

#include "conf/backend.h"

enum vgl_bmc_priv { VGL_BMC_PRIV_USER, VGL_BMC_PRIV_OPERATOR, VGL_BMC_PRIV_ADMIN };
enum vgl_bmc_auth { VGL_BMC_AUTH_SESSION, VGL_BMC_AUTH_BASIC };

struct vgl_bmc_source {
	char *address;          /* NULL: the host's */
	uint16_t port;
	char *username, *password;
	/* ipmi */
	uint8_t cipher_suite;
	enum vgl_bmc_priv privilege;
	/* redfish */
	enum vgl_bmc_auth auth;
	int tls_verify;
	char *ca_file;          /* NULL: the system's CA store */
	int inline_secrets;     /* given inline, for the loader's warning */
};

enum vgl_bmc_read { VGL_BMC_READ_POWER, VGL_BMC_READ_HEALTH, VGL_BMC_READ_SENSOR,
		    VGL_BMC_READ_SENSOR_STATE, VGL_BMC_READ_SEL_ENTRIES };

struct vgl_bmc_metric {
	enum vgl_bmc_read read;
	char *sensor;           /* SENSOR, SENSOR_STATE: the sensor's name as the BMC
				 * gives it (IPMI SDR id string, Redfish Name) */
};

extern const struct vgl_conf_backend vgl_ipmi_conf_backend;
extern const struct vgl_conf_backend vgl_redfish_conf_backend;

#endif
