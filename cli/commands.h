// star: the commands of the `star` executable. Each takes argc/argv starting at its
// own name (argv[0] = "search"), returns the process exit status (0 ok, 1 failure,
// 2 usage error) and prints its own errors.
#ifndef STAR_CLI_COMMANDS_H
#define STAR_CLI_COMMANDS_H

typedef struct star_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} star_command;

int cmd_search(int argc, char **argv);
int cmd_genome(int argc, char **argv);
int cmd_front(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_logits(int argc, char **argv);

// True if argv holds --help or -h.
int cli_wants_help(int argc, char **argv);

#endif
