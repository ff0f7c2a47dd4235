/* SPDX-License-Identifier: Apache-2.0 */
/* The ioctl seam, one thin wrapper per KVM command, and the host capability probe. */
#include <cvmkit/kvm.h>
#include "launcher/kvm_uapi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- The real seam ---------------------------------------------------------------------- */

static int real_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int real_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd) ? -errno : 0;
}

static int real_ioctl(void *ctx, int fd, unsigned long request, unsigned long arg)
{
	(void)ctx;
	int rc = ioctl(fd, request, arg);
	return rc < 0 ? -errno : rc;
}

static int real_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	(void)ctx;
	void *p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int real_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len) ? -errno : 0;
}

static const struct cvm_kvm_ops real_ops = {
	.open = real_open,
	.close = real_close,
	.ioctl = real_ioctl,
	.mmap = real_mmap,
	.munmap = real_munmap,
};

static const struct cvm_kvm_seam real_seam = {&real_ops, NULL};

const struct cvm_kvm_seam *cvm_kvm_seam_real(void)
{
	return &real_seam;
}

/* ---- Wrappers --------------------------------------------------------------------------- */

int cvm_kvm_ioctl(const struct cvm_kvm_seam *s, int fd, unsigned long req, unsigned long arg)
{
	int rc;
	do
		rc = s->ops->ioctl(s->ctx, fd, req, arg);
	while (rc == -EINTR);
	return rc;
}

int cvm_kvm_check_extension(const struct cvm_kvm_seam *s, int fd, long cap)
{
	return cvm_kvm_ioctl(s, fd, KVM_CHECK_EXTENSION, (unsigned long)cap);
}

int cvm_kvm_create_guest_memfd(const struct cvm_kvm_seam *s, int vm_fd, uint64_t size,
			       uint64_t flags)
{
	struct cvm_kvm_create_guest_memfd g;
	memset(&g, 0, sizeof(g));
	g.size = size;
	g.flags = flags;
	return cvm_kvm_ioctl(s, vm_fd, CVM_KVM_CREATE_GUEST_MEMFD, (unsigned long)&g);
}

int cvm_kvm_set_memory_region2(const struct cvm_kvm_seam *s, int vm_fd, uint32_t slot,
			       uint32_t flags, uint64_t gpa, uint64_t size, void *uaddr,
			       int gmem_fd, uint64_t gmem_offset)
{
	struct cvm_kvm_userspace_memory_region2 r;
	memset(&r, 0, sizeof(r));
	r.slot = slot;
	r.flags = flags;
	r.guest_phys_addr = gpa;
	r.memory_size = size;
	r.userspace_addr = (uint64_t)(uintptr_t)uaddr;
	if (flags & CVM_KVM_MEM_GUEST_MEMFD) {
		r.guest_memfd = (uint32_t)gmem_fd;
		r.guest_memfd_offset = gmem_offset;
	}
	return cvm_kvm_ioctl(s, vm_fd, CVM_KVM_SET_USER_MEMORY_REGION2, (unsigned long)&r);
}

int cvm_kvm_set_memory_attributes(const struct cvm_kvm_seam *s, int vm_fd, uint64_t gpa,
				  uint64_t size, uint64_t attributes)
{
	struct cvm_kvm_memory_attributes a;
	memset(&a, 0, sizeof(a));
	a.address = gpa;
	a.size = size;
	a.attributes = attributes;
	return cvm_kvm_ioctl(s, vm_fd, CVM_KVM_SET_MEMORY_ATTRIBUTES, (unsigned long)&a);
}

int cvm_kvm_gmem_set_attributes2(const struct cvm_kvm_seam *s, int gmem_fd, uint64_t offset,
				 uint64_t size, uint64_t attributes, uint64_t flags,
				 uint64_t *error_offset)
{
	struct cvm_kvm_memory_attributes2 a;
	memset(&a, 0, sizeof(a));
	a.offset = offset;
	a.size = size;
	a.attributes = attributes;
	a.flags = flags;
	int rc = cvm_kvm_ioctl(s, gmem_fd, CVM_KVM_SET_MEMORY_ATTRIBUTES2, (unsigned long)&a);
	if (rc == -EAGAIN && error_offset)
		*error_offset = a.error_offset;
	return rc;
}

/*
 * The two KVM_MEMORY_ENCRYPT_OP wrappers rebuild the command on every EINTR retry: KVM writes
 * the status fields back, and TDX refuses a non-zero hw_error on input (EINVAL).
 */
int cvm_kvm_sev_op(const struct cvm_kvm_seam *s, int vm_fd, int sev_fd, uint32_t id, void *data,
		   uint32_t *fw_error)
{
	struct cvm_kvm_sev_cmd cmd;
	int rc;
	do {
		memset(&cmd, 0, sizeof(cmd));
		cmd.id = id;
		cmd.data = (uint64_t)(uintptr_t)data;
		cmd.sev_fd = (uint32_t)sev_fd;
		rc = s->ops->ioctl(s->ctx, vm_fd, CVM_KVM_MEMORY_ENCRYPT_OP, (unsigned long)&cmd);
	} while (rc == -EINTR);
	if (fw_error)
		*fw_error = cmd.error;
	return rc;
}

int cvm_kvm_tdx_op(const struct cvm_kvm_seam *s, int fd, uint32_t id, uint32_t flags,
		   uint64_t data, uint64_t *hw_error)
{
	struct cvm_kvm_tdx_cmd cmd;
	int rc;
	do {
		memset(&cmd, 0, sizeof(cmd));
		cmd.id = id;
		cmd.flags = flags;
		cmd.data = data;
		rc = s->ops->ioctl(s->ctx, fd, CVM_KVM_MEMORY_ENCRYPT_OP, (unsigned long)&cmd);
	} while (rc == -EINTR);
	if (hw_error)
		*hw_error = cmd.hw_error;
	return rc;
}

/* ---- Capabilities ----------------------------------------------------------------------- */

const char *cvm_kvm_vm_type_name(unsigned long type)
{
	switch (type) {
	case CVM_KVM_X86_DEFAULT_VM: return "default";
	case CVM_KVM_X86_SW_PROTECTED_VM: return "sw-protected";
	case CVM_KVM_X86_SEV_VM: return "sev";
	case CVM_KVM_X86_SEV_ES_VM: return "sev-es";
	case CVM_KVM_X86_SNP_VM: return "sev-snp";
	case CVM_KVM_X86_TDX_VM: return "tdx";
	default: return "unknown";
	}
}

/* A capability KVM does not know reads as 0, like KVM_CHECK_EXTENSION itself reports it. */
static int read_cap(const struct cvm_kvm_seam *s, int fd, long cap, uint64_t *out,
		    struct cvm_error *err)
{
	int rc = cvm_kvm_check_extension(s, fd, cap);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_CHECK_EXTENSION(%ld): %s", cap,
				     cvm_errno_name(rc));
	*out = (uint64_t)rc;
	return 0;
}

static int read_caps(const struct cvm_kvm_seam *s, int kvm_fd, struct cvm_kvm_caps *c,
		     struct cvm_error *err)
{
	static const long caps[] = {
		CVM_KVM_CAP_VM_TYPES,	       CVM_KVM_CAP_USER_MEMORY2,
		CVM_KVM_CAP_MEMORY_FAULT_INFO, CVM_KVM_CAP_MEMORY_ATTRIBUTES,
		CVM_KVM_CAP_GUEST_MEMFD,       CVM_KVM_CAP_PRE_FAULT_MEMORY,
		CVM_KVM_CAP_GUEST_MEMFD_FLAGS,
	};
	uint64_t v[sizeof(caps) / sizeof(caps[0])];
	int rc = cvm_kvm_ioctl(s, kvm_fd, KVM_GET_API_VERSION, 0);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_GET_API_VERSION: %s", cvm_errno_name(rc));
	if (rc != KVM_API_VERSION)
		return cvm_error_set(err, -EOPNOTSUPP, "KVM API version %d, expected %d", rc,
				     KVM_API_VERSION);
	c->api_version = rc;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if ((rc = read_cap(s, kvm_fd, caps[i], &v[i], err)))
			return rc;
	/* Without KVM_CAP_VM_TYPES only the default type exists. */
	c->vm_types = v[0] ? v[0] : 1u << CVM_KVM_X86_DEFAULT_VM;
	c->user_memory2 = (int)v[1];
	c->memory_fault_info = (int)v[2];
	c->memory_attributes = v[3];
	c->guest_memfd = (int)v[4];
	c->pre_fault_memory = (int)v[5];
	c->guest_memfd_flags = v[6];
	return 0;
}

static int open_kvm(const struct cvm_kvm_seam *s, struct cvm_error *err)
{
	int fd = s->ops->open(s->ctx, "/dev/kvm", O_RDWR);
	if (fd < 0)
		return cvm_error_set(err, fd, "open /dev/kvm: %s%s", cvm_errno_name(fd),
				     fd == -ENOENT ? " (no KVM on this host)"
				     : fd == -EACCES ? " (permission denied: join group kvm)"
						     : "");
	return fd;
}

int cvm_kvm_probe(const struct cvm_kvm_seam *s, struct cvm_kvm_caps *out, struct cvm_error *err)
{
	struct cvm_kvm_caps c;
	memset(&c, 0, sizeof(c));
	int fd = open_kvm(s, err);
	if (fd < 0)
		return fd;
	int rc = read_caps(s, fd, &c, err);
	s->ops->close(s->ctx, fd);
	if (rc)
		return rc;
	*out = c;
	return 0;
}

int cvm_kvm_get_device_attr(const struct cvm_kvm_seam *s, int fd, uint32_t group, uint64_t attr,
			    uint64_t *value)
{
	struct kvm_device_attr a;
	memset(&a, 0, sizeof(a));
	a.group = group;
	a.attr = attr;
	a.addr = (uint64_t)(uintptr_t)value;
	return cvm_kvm_ioctl(s, fd, KVM_GET_DEVICE_ATTR, (unsigned long)&a);
}

/* A u64 attribute of KVM_X86_GRP_SEV on /dev/kvm; what names it in messages. */
static int sev_attr(const struct cvm_kvm_seam *s, uint64_t attr, const char *what,
		    const char *enxio, uint64_t *out, struct cvm_error *err)
{
	int fd = open_kvm(s, err);
	if (fd < 0)
		return fd;
	uint64_t v = 0;
	int rc = cvm_kvm_get_device_attr(s, fd, CVM_KVM_X86_GRP_SEV, attr, &v);
	s->ops->close(s->ctx, fd);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV, %s): %s%s", what,
				     cvm_errno_name(rc),
				     rc == -ENXIO	? enxio
				     : rc == -ENOTTY ? " (this host's KVM has no device attributes: "
						       "older than 6.10)"
						     : "");
	*out = v;
	return 0;
}

int cvm_kvm_sev_vmsa_features(const struct cvm_kvm_seam *s, uint64_t *out, struct cvm_error *err)
{
	return sev_attr(s, CVM_KVM_X86_SEV_VMSA_FEATURES, "KVM_X86_SEV_VMSA_FEATURES",
			" (this host's KVM has no SEV support)", out, err);
}

int cvm_kvm_sev_snp_req_certs(const struct cvm_kvm_seam *s, struct cvm_error *err)
{
	uint64_t v = 0;
	int rc = sev_attr(s, CVM_KVM_X86_SEV_SNP_REQ_CERTS, "KVM_X86_SEV_SNP_REQ_CERTS",
			  " (this host's KVM cannot serve certificates to SNP guests: "
			  "KVM_SEV_SNP_ENABLE_REQ_CERTS needs Linux 7.0, and SEV)",
			  &v, err);
	if (!rc && v != 1)
		rc = cvm_error_set(err, -EOPNOTSUPP, "KVM_X86_SEV_SNP_REQ_CERTS is %llu: this host's "
				   "KVM does not offer SNP certificate requests",
				   (unsigned long long)v);
	return rc;
}

/* ---- VM lifetime ------------------------------------------------------------------------ */

static const char *vm_type_title(unsigned long type)
{
	switch (type) {
	case CVM_KVM_X86_SNP_VM: return "SEV-SNP";
	case CVM_KVM_X86_TDX_VM: return "TDX";
	case CVM_KVM_X86_SEV_VM: return "SEV";
	case CVM_KVM_X86_SEV_ES_VM: return "SEV-ES";
	default: return "default";
	}
}

int cvm_kvm_vm_create(const struct cvm_kvm_seam *s, unsigned long type,
		      volatile sig_atomic_t *cancel, struct cvm_kvm_vm **out,
		      struct cvm_error *err)
{
	struct cvm_kvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	vm->seam = s;
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->sev_fd = -1;
	vm->type = type;
	vm->cancel = cancel;
	int rc = open_kvm(s, err);
	if (rc < 0)
		goto fail;
	vm->kvm_fd = rc;
	if ((rc = read_caps(s, vm->kvm_fd, &vm->caps, err)))
		goto fail;
	if (type >= 64 || !(vm->caps.vm_types & (1ull << type))) {
		rc = cvm_error_set(err, -EOPNOTSUPP,
				   "%s VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x%llx)",
				   vm_type_title(type), (unsigned long long)vm->caps.vm_types);
		goto fail;
	}
	if (!vm->caps.guest_memfd || !vm->caps.user_memory2) {
		rc = cvm_error_set(err, -EOPNOTSUPP,
				   "this host's KVM lacks guest_memfd (KVM_CAP_GUEST_MEMFD = %d, KVM_CAP_USER_MEMORY2 = %d)",
				   vm->caps.guest_memfd, vm->caps.user_memory2);
		goto fail;
	}
	rc = cvm_kvm_ioctl(s, vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (rc <= 0) {
		rc = cvm_error_set(err, rc < 0 ? rc : -EIO, "KVM_GET_VCPU_MMAP_SIZE: %s",
				   cvm_errno_name(rc < 0 ? rc : -EIO));
		goto fail;
	}
	vm->run_size = (size_t)rc;
	rc = cvm_kvm_ioctl(s, vm->kvm_fd, KVM_CREATE_VM, type);
	if (rc < 0) {
		cvm_error_set(err, rc, "KVM_CREATE_VM(%s): %s", cvm_kvm_vm_type_name(type),
			      cvm_errno_name(rc));
		goto fail;
	}
	vm->vm_fd = rc;
	*out = vm;
	return 0;
fail:
	cvm_kvm_vm_free(vm);
	return rc;
}

void cvm_kvm_vm_free(struct cvm_kvm_vm *vm)
{
	if (!vm)
		return;
	const struct cvm_kvm_seam *s = vm->seam;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		if (vm->runs && vm->runs[i])
			s->ops->munmap(s->ctx, vm->runs[i], vm->run_size);
		if (vm->vcpu_fds && vm->vcpu_fds[i] >= 0)
			s->ops->close(s->ctx, vm->vcpu_fds[i]);
	}
	free(vm->runs);
	free(vm->vcpu_fds);
	for (size_t i = 0; i < vm->nregions; i++) {
		struct cvm_kvm_region *r = &vm->regions[i];
		if (r->gmem_map)
			s->ops->munmap(s->ctx, r->gmem_map, r->size);
		if (r->shared)
			s->ops->munmap(s->ctx, r->shared, r->size);
		if (r->gmem_fd >= 0)
			s->ops->close(s->ctx, r->gmem_fd);
	}
	if (vm->vm_fd >= 0)
		s->ops->close(s->ctx, vm->vm_fd);
	if (vm->sev_fd >= 0)
		s->ops->close(s->ctx, vm->sev_fd);
	cvm_snp_certs_free(vm->snp_certs);
	if (vm->kvm_fd >= 0)
		s->ops->close(s->ctx, vm->kvm_fd);
	free(vm);
}
