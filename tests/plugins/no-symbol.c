/* A fixture shared object that is not a jobrun plugin: it exports no
 * jobrun_plugin symbol. */
__attribute__((visibility("default"))) int something_else(void);

int
something_else(void)
{
	return 42;
}
