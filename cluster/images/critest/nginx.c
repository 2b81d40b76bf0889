/* kube-dev-lab's stand-in for critest's nginx image (registry.k8s.io/e2e-test-images/nginx),
 * rebuilt offline: what critest's PID-namespace tests look at, nothing more. As nginx does,
 * it writes its PID to /var/run/nginx.pid, runs as a process named "nginx" whose command
 * line reads "nginx: master process ..." (it re-executes itself under that argv[0]), and
 * serves HTTP on port 80 (busybox httpd, as its child, in the foreground). SIGTERM/SIGINT
 * stop the server and it exits 0. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SELF "/usr/sbin/nginx"
#define TITLE "nginx: master process nginx -g daemon off;"

static pid_t server;

static void on_stop(int sig) {
    (void)sig;
    if (server > 0) {
        kill(server, SIGTERM);
    }
    _exit(0);
}

int main(int argc, char **argv) {
    (void)argc;
    if (strcmp(argv[0], TITLE) != 0) {
        char *again[] = {TITLE, NULL};
        execv(SELF, again);
        perror("nginx: re-exec");
        return 1;
    }
    FILE *pidfile = fopen("/var/run/nginx.pid", "w");
    if (pidfile == NULL) {
        perror("nginx: /var/run/nginx.pid");
        return 1;
    }
    fprintf(pidfile, "%d\n", (int)getpid());
    fclose(pidfile);
    struct sigaction stop = {.sa_handler = on_stop};
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    server = fork();
    if (server == 0) {
        execl("/usr/sbin/httpd", "httpd", "-f", "-p", "80", "-h", "/usr/share/nginx/html", (char *)NULL);
        perror("nginx: httpd");
        _exit(1);
    }
    printf("nginx: serving /usr/share/nginx/html on port 80 (pid %d)\n", (int)getpid());
    fflush(stdout);
    int status = 0;
    while (waitpid(server, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
