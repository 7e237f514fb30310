package io.xensnap.internal.service;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.internal.config.Settings;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.qemuimg.QemuImg;

/** Runs the configured qemu-img (argv only, never a shell), each run bounded by {@code qemu.img.timeout.ms}. */
@Component(service = QemuImgRunner.class)
public final class QemuImgRunner {

    private final QemuImg qemuImg;

    @Activate
    public QemuImgRunner(@Reference(name = "settings") Settings settings) {
        this.qemuImg = new QemuImg(new JdkProcessRunner(), settings.qemuImg().toString(), settings.qemuImgTimeout(),
                new ObjectMapper());
    }

    public QemuImg qemuImg() {
        return qemuImg;
    }
}
