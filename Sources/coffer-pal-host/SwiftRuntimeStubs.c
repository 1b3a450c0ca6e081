/*
 * SwiftPM links every executable with the Swift toolchain's swiftrt.o, whose constructor hands
 * the image's Swift metadata sections to the Swift runtime (swift_addNewDSOImage) and which
 * references a backtracer hook. coffer-pal-host contains no Swift code, so there is nothing to
 * register: these definitions satisfy swiftrt.o here, and `-Xlinker --as-needed` (Package.swift)
 * then leaves libswiftCore out, so the enclave container does not get the Swift runtime
 * bind-mounted into it (decision 0012). If a toolchain adds a reference, the link still works
 * and only brings libswiftCore back; CofferRuntimeTests checks it is absent.
 */
void swift_addNewDSOImage(const void *header)
{
	(void)header;
}

int _swift_backtrace_isThunkFunction(const char *name)
{
	(void)name;
	return 0;
}
