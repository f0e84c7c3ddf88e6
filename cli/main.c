/*
 * main.c - the estuaryfs command: global options, the command table and
 * `help`.
 *
 *   estuaryfs [--help] [--version] COMMAND [OPTIONS] [ARGS]
 *
 * Each command lives in its own cmd_*.c file and is described by a
 * struct cli_cmd (cli_i.h).  The dispatcher resets getopt and hands the
 * command its own argv (argv[0] = the command name), so commands parse
 * their options independently and `estuaryfs add --help` works the same
 * as `estuaryfs help add`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_i.h"
#include "efs_config.h"

#include "core/banned.h"

static const struct cli_cmd *const commands[] = {
	&cli_cmd_add, &cli_cmd_cat,   &cli_cmd_ls,
	&cli_cmd_car, &cli_cmd_commp, &cli_cmd_fsck, &cli_cmd_gc,
	&cli_cmd_wallet,
	&cli_cmd_miners, &cli_cmd_miner, &cli_cmd_bandwidth,
	&cli_cmd_status, &cli_cmd_deals, &cli_cmd_deal, &cli_cmd_estimate,
	&cli_cmd_evict, &cli_cmd_pin, &cli_cmd_unpin, &cli_cmd_retrieve,
	&cli_cmd_daemon, &cli_cmd_key,
#ifdef EFS_WITH_FS
	&cli_cmd_mount, &cli_cmd_unmount, &cli_cmd_commit, &cli_cmd_commits,
#endif
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: estuaryfs [--help] [--version] COMMAND [ARGS]\n"
	      "\n"
	      "estuaryfs turns files into IPFS UnixFS DAGs in a local\n"
	      "content-addressed repository, and makes the CARs and piece\n"
	      "CIDs Filecoin deals need.\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fputs("  help       show a command's help: estuaryfs help COMMAND\n"
	      "\n"
	      "environment:\n"
	      "  ESTUARYFS_HOME  the repository (default ~/.estuaryfs),\n"
	      "                  created on first use\n"
	      "\n"
	      "exit codes:\n"
	      "  0 ok, 1 error, 2 usage, 3 not found, 4 corrupt data or\n"
	      "  failed verification, 5 I/O error or disk full\n",
	      f);
}

static const struct cli_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!(cmd = find_command(argv[1]))) {
		fprintf(stderr, "estuaryfs: help: no command '%s' "
				"(see 'estuaryfs --help')\n",
			argv[1]);
		return CLI_EXIT_USAGE;
	}
	/* `help car export` shows the car help, which covers both. */
	cli_help(cmd, stdout);
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd;
	int c;

	/* Errors are reported here, in one line, not by getopt. */
	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("estuaryfs %s\n", EFS_VERSION);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "estuaryfs: unknown option %s "
					"(see 'estuaryfs --help')\n",
				argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: full reinitialisation for the command */
	if (strcmp(argv[0], "help") == 0)
		return help(argc, argv);
	if (strcmp(argv[0], "version") == 0) {
		printf("estuaryfs %s\n", EFS_VERSION);
		return CLI_EXIT_OK;
	}
	if (!(cmd = find_command(argv[0]))) {
		fprintf(stderr,
			"estuaryfs: no command '%s' (see 'estuaryfs --help')\n",
			argv[0]);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(argc, argv);
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	/* Report a failed write of stdout (disk full, closed pipe...). */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("estuaryfs: error writing to stdout\n", stderr);
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_IO;
	}
	return rc;
}
