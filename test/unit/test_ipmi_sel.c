/* The SEL class table (vgl_ipmi_sel_class, collectors/ipmi_io.h), row by
 * row. The numbers are written out from the IPMI 2.0 spec's tables 42-1
 * (event/reading types), 42-2 (generic offsets) and 42-3 (sensor types and
 * their offsets) rather than taken from FreeIPMI's macros, so a wrong
 * macro shows here too. */
#include "collectors/ipmi_io.h"
#include "test/test.h"

#define THRESHOLD 0x01
#define SEVERITY 0x07
#define SPECIFIC 0x6F

static int cls(uint8_t sensor_type, uint8_t event_type, uint8_t offset)
{
	return vgl_ipmi_sel_class(sensor_type, event_type, offset, 0);
}

TEST(ipmi_sel_class_threshold_critical_outward_is_fault)
{
	/* 02h lc going low, 04h lnr going low, 09h uc going high, 0Bh unr
	 * going high: the four that leave a critical band outward */
	static const uint8_t fault[] = { 0x02, 0x04, 0x09, 0x0B };
	int n_fault = 0;

	for (size_t i = 0; i < sizeof(fault); i++)
		ASSERT_EQ(cls(0x01, THRESHOLD, fault[i]), VGL_BMC_EV_FAULT);
	/* every other offset, non-critical or going back, is information,
	 * whatever the sensor type */
	for (uint8_t off = 0; off < 12; off++) {
		int c = cls(0x04, THRESHOLD, off);

		ASSERT(c == VGL_BMC_EV_FAULT || c == VGL_BMC_EV_INFO);
		n_fault += c == VGL_BMC_EV_FAULT;
	}
	ASSERT_EQ(n_fault, 4);
	ASSERT_EQ(cls(0x01, THRESHOLD, 0x00), VGL_BMC_EV_INFO);      /* lnc going low */
	ASSERT_EQ(cls(0x01, THRESHOLD, 0x03), VGL_BMC_EV_INFO);      /* lc going high */
	ASSERT_EQ(cls(0x01, THRESHOLD, 0x07), VGL_BMC_EV_INFO);      /* unc going high */
	ASSERT_EQ(cls(0x01, THRESHOLD, 0x08), VGL_BMC_EV_INFO);      /* uc going low */
}

TEST(ipmi_sel_class_offset_is_event_data_1_low_nibble)
{
	/* the caller may pass event data 1 whole: bits 7:4 say what bytes 2
	 * and 3 hold, not the event */
	ASSERT_EQ(cls(0x01, THRESHOLD, 0x59), VGL_BMC_EV_FAULT);     /* 5xh | uc going high */
	ASSERT_EQ(cls(0x01, THRESHOLD, 0x57), VGL_BMC_EV_INFO);      /* 5xh | unc going high */
	ASSERT_EQ(cls(0x20, SPECIFIC, 0xA3), VGL_BMC_EV_ORDERLY);
}

TEST(ipmi_sel_class_deassertion_is_info)
{
	ASSERT_EQ(vgl_ipmi_sel_class(0x01, THRESHOLD, 0x09, 1), VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_ipmi_sel_class(0x07, SPECIFIC, 0x00, 1), VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_ipmi_sel_class(0x20, SPECIFIC, 0x03, 1), VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_ipmi_sel_class(0x09, SPECIFIC, 0x00, 1), VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_ipmi_sel_class(0x1E, SPECIFIC, 0x00, 1), VGL_BMC_EV_INFO);
}

TEST(ipmi_sel_class_severity_to_critical_is_fault)
{
	ASSERT_EQ(cls(0x01, SEVERITY, 0x00), VGL_BMC_EV_INFO);       /* to OK */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x01), VGL_BMC_EV_INFO);       /* to non-critical */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x02), VGL_BMC_EV_FAULT);      /* to critical */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x03), VGL_BMC_EV_FAULT);      /* to non-recoverable */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x04), VGL_BMC_EV_INFO);       /* down to non-critical */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x05), VGL_BMC_EV_INFO);       /* down to critical */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x06), VGL_BMC_EV_FAULT);      /* non-recoverable */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x07), VGL_BMC_EV_INFO);       /* monitor */
	ASSERT_EQ(cls(0x01, SEVERITY, 0x08), VGL_BMC_EV_INFO);       /* informational */
}

TEST(ipmi_sel_class_other_generic_and_oem_types_are_info)
{
	/* 03h state, 04h predictive failure, 0Bh redundancy lost: no outage */
	ASSERT_EQ(cls(0x08, 0x03, 0x01), VGL_BMC_EV_INFO);
	ASSERT_EQ(cls(0x08, 0x04, 0x01), VGL_BMC_EV_INFO);
	ASSERT_EQ(cls(0x08, 0x0B, 0x01), VGL_BMC_EV_INFO);
	/* the sensor-specific rows apply to type 6Fh only */
	ASSERT_EQ(cls(0x07, 0x03, 0x00), VGL_BMC_EV_INFO);
	ASSERT_EQ(cls(0x20, 0x0A, 0x03), VGL_BMC_EV_INFO);
	/* OEM event types 70h-7Fh, OEM sensor types C0h-FFh */
	ASSERT_EQ(cls(0x07, 0x70, 0x00), VGL_BMC_EV_INFO);
	ASSERT_EQ(cls(0xC0, SPECIFIC, 0x00), VGL_BMC_EV_INFO);
	ASSERT_EQ(cls(0x00, SPECIFIC, 0x00), VGL_BMC_EV_INFO);
}

TEST(ipmi_sel_class_processor)
{
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x00), VGL_BMC_EV_FAULT);      /* IERR */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* thermal trip */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x02), VGL_BMC_EV_FAULT);      /* FRB1/BIST */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x03), VGL_BMC_EV_FAULT);      /* FRB2 hang in POST */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x04), VGL_BMC_EV_FAULT);      /* FRB3 startup */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x05), VGL_BMC_EV_FAULT);      /* configuration error */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x06), VGL_BMC_EV_FAULT);      /* uncorrectable CPU complex */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x07), VGL_BMC_EV_INFO);       /* presence detected */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x08), VGL_BMC_EV_INFO);       /* disabled */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x0A), VGL_BMC_EV_INFO);       /* throttled */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x0B), VGL_BMC_EV_FAULT);      /* machine check */
	ASSERT_EQ(cls(0x07, SPECIFIC, 0x0C), VGL_BMC_EV_INFO);       /* correctable MCE */
}

TEST(ipmi_sel_class_power_supply)
{
	ASSERT_EQ(cls(0x08, SPECIFIC, 0x00), VGL_BMC_EV_INFO);       /* presence */
	ASSERT_EQ(cls(0x08, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* failure detected */
	ASSERT_EQ(cls(0x08, SPECIFIC, 0x02), VGL_BMC_EV_INFO);       /* predictive failure */
	/* input lost is the feed's failure: attribution hears of it from
	 * the chassis "AC failed" bit and the feeds */
	ASSERT_EQ(cls(0x08, SPECIFIC, 0x03), VGL_BMC_EV_INFO);       /* input lost (AC/DC) */
	ASSERT_EQ(cls(0x08, SPECIFIC, 0x04), VGL_BMC_EV_INFO);       /* input lost or out of range */
	ASSERT_EQ(cls(0x08, SPECIFIC, 0x06), VGL_BMC_EV_INFO);       /* configuration error */
}

TEST(ipmi_sel_class_power_unit)
{
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x00), VGL_BMC_EV_COMMAND);    /* power off / down */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x01), VGL_BMC_EV_COMMAND);    /* power cycle */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x02), VGL_BMC_EV_FAULT);      /* 240VA power down */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x03), VGL_BMC_EV_FAULT);      /* interlock power down */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x04), VGL_BMC_EV_INFO);       /* AC lost */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x05), VGL_BMC_EV_FAULT);      /* soft power control failure */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x06), VGL_BMC_EV_FAULT);      /* power unit failure */
	ASSERT_EQ(cls(0x09, SPECIFIC, 0x07), VGL_BMC_EV_INFO);       /* predictive failure */
}

TEST(ipmi_sel_class_memory_and_drives)
{
	ASSERT_EQ(cls(0x0C, SPECIFIC, 0x00), VGL_BMC_EV_INFO);       /* correctable ECC */
	ASSERT_EQ(cls(0x0C, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* uncorrectable ECC */
	ASSERT_EQ(cls(0x0C, SPECIFIC, 0x02), VGL_BMC_EV_FAULT);      /* parity */
	ASSERT_EQ(cls(0x0C, SPECIFIC, 0x03), VGL_BMC_EV_FAULT);      /* scrub failed */
	ASSERT_EQ(cls(0x0C, SPECIFIC, 0x05), VGL_BMC_EV_INFO);       /* ECC logging limit */
	ASSERT_EQ(cls(0x0C, SPECIFIC, 0x0A), VGL_BMC_EV_FAULT);      /* critical overtemperature */
	ASSERT_EQ(cls(0x0D, SPECIFIC, 0x00), VGL_BMC_EV_INFO);       /* drive presence */
	ASSERT_EQ(cls(0x0D, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* drive fault */
	ASSERT_EQ(cls(0x0D, SPECIFIC, 0x02), VGL_BMC_EV_INFO);       /* predictive failure */
	ASSERT_EQ(cls(0x0D, SPECIFIC, 0x06), VGL_BMC_EV_FAULT);      /* in failed array */
}

TEST(ipmi_sel_class_critical_interrupt)
{
	static const uint8_t fault[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A };

	/* front panel NMI, bus timeout, I/O channel check, software NMI,
	 * PCI PERR and SERR, EISA fail-safe, bus uncorrectable, fatal NMI,
	 * bus fatal */
	for (size_t i = 0; i < sizeof(fault); i++)
		ASSERT_EQ(cls(0x13, SPECIFIC, fault[i]), VGL_BMC_EV_FAULT);
	ASSERT_EQ(cls(0x13, SPECIFIC, 0x07), VGL_BMC_EV_INFO);       /* bus correctable */
	ASSERT_EQ(cls(0x13, SPECIFIC, 0x0B), VGL_BMC_EV_INFO);       /* bus degraded */
}

TEST(ipmi_sel_class_os_stop_and_shutdown)
{
	ASSERT_EQ(cls(0x20, SPECIFIC, 0x00), VGL_BMC_EV_FAULT);      /* critical stop during load */
	ASSERT_EQ(cls(0x20, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* run-time critical stop */
	ASSERT_EQ(cls(0x20, SPECIFIC, 0x02), VGL_BMC_EV_ORDERLY);    /* OS graceful stop */
	ASSERT_EQ(cls(0x20, SPECIFIC, 0x03), VGL_BMC_EV_ORDERLY);    /* OS graceful shutdown */
	ASSERT_EQ(cls(0x20, SPECIFIC, 0x04), VGL_BMC_EV_ORDERLY);    /* soft shutdown by PEF */
	ASSERT_EQ(cls(0x20, SPECIFIC, 0x05), VGL_BMC_EV_INFO);       /* agent not responding */
}

TEST(ipmi_sel_class_acpi_power_state)
{
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x00), VGL_BMC_EV_INFO);       /* S0/G0 working */
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x04), VGL_BMC_EV_INFO);       /* S4 */
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x05), VGL_BMC_EV_ORDERLY);    /* S5/G2 soft-off */
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x06), VGL_BMC_EV_ORDERLY);    /* S4/S5 soft-off */
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x07), VGL_BMC_EV_INFO);       /* G3 mechanical off */
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x0A), VGL_BMC_EV_COMMAND);    /* S5 entered by override */
	ASSERT_EQ(cls(0x22, SPECIFIC, 0x0C), VGL_BMC_EV_INFO);       /* legacy off */
}

TEST(ipmi_sel_class_watchdogs)
{
	ASSERT_EQ(cls(0x23, SPECIFIC, 0x00), VGL_BMC_EV_FAULT);      /* timer expired */
	ASSERT_EQ(cls(0x23, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* hard reset */
	ASSERT_EQ(cls(0x23, SPECIFIC, 0x02), VGL_BMC_EV_FAULT);      /* power down */
	ASSERT_EQ(cls(0x23, SPECIFIC, 0x03), VGL_BMC_EV_FAULT);      /* power cycle */
	ASSERT_EQ(cls(0x23, SPECIFIC, 0x08), VGL_BMC_EV_INFO);       /* timer interrupt */
	for (uint8_t off = 0x00; off <= 0x06; off++)                 /* watchdog 1 resets ... */
		ASSERT_EQ(cls(0x11, SPECIFIC, off), VGL_BMC_EV_FAULT);
	ASSERT_EQ(cls(0x11, SPECIFIC, 0x07), VGL_BMC_EV_INFO);       /* pre-timeout interrupt */
}

TEST(ipmi_sel_class_boot_and_restart)
{
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x00), VGL_BMC_EV_INFO);       /* initiated by power up */
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x01), VGL_BMC_EV_COMMAND);    /* by hard reset */
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x02), VGL_BMC_EV_COMMAND);    /* by warm reset */
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x03), VGL_BMC_EV_INFO);       /* user requested PXE */
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x05), VGL_BMC_EV_ORDERLY);    /* OS initiated hard reset */
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x06), VGL_BMC_EV_ORDERLY);    /* OS initiated warm reset */
	ASSERT_EQ(cls(0x1D, SPECIFIC, 0x07), VGL_BMC_EV_INFO);       /* system restart */
	for (uint8_t off = 0x00; off <= 0x04; off++)                 /* boot error, any */
		ASSERT_EQ(cls(0x1E, SPECIFIC, off), VGL_BMC_EV_FAULT);
}

TEST(ipmi_sel_class_buttons_chipset_system_event)
{
	ASSERT_EQ(cls(0x14, SPECIFIC, 0x00), VGL_BMC_EV_COMMAND);    /* power button */
	ASSERT_EQ(cls(0x14, SPECIFIC, 0x01), VGL_BMC_EV_INFO);       /* sleep button */
	ASSERT_EQ(cls(0x14, SPECIFIC, 0x02), VGL_BMC_EV_COMMAND);    /* reset button */
	ASSERT_EQ(cls(0x19, SPECIFIC, 0x00), VGL_BMC_EV_FAULT);      /* chipset soft power failure */
	ASSERT_EQ(cls(0x19, SPECIFIC, 0x01), VGL_BMC_EV_FAULT);      /* chipset thermal trip */
	ASSERT_EQ(cls(0x12, SPECIFIC, 0x00), VGL_BMC_EV_INFO);       /* system reconfigured */
	ASSERT_EQ(cls(0x12, SPECIFIC, 0x01), VGL_BMC_EV_INFO);       /* OEM system boot event */
	ASSERT_EQ(cls(0x12, SPECIFIC, 0x02), VGL_BMC_EV_FAULT);      /* undetermined hw failure */
	ASSERT_EQ(cls(0x12, SPECIFIC, 0x04), VGL_BMC_EV_INFO);       /* PEF action */
	ASSERT_EQ(cls(0x10, SPECIFIC, 0x02), VGL_BMC_EV_INFO);       /* log area cleared */
}
