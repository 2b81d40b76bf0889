/* kube-dev-lab's stand-in for critest's nonewprivs image (registry.k8s.io/e2e-test-images/
 * nonewprivs), rebuilt offline: installed setuid root, it prints the effective UID it runs
 * with. Started by UID 1000 it prints 0, unless no_new_privs made the kernel ignore the
 * setuid bit. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("Effective uid: %d\n", (int)geteuid());
    return 0;
}
