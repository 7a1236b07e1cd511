## لوحة قيادة المشرف
supervisor-place-title = لوحة القيادة: { $place }
supervisor-morocco = المغرب
supervisor-as-of = الأرقام إلى غاية { $at } (تُقرأ من جديد كل دقيقة)
supervisor-up = العودة إلى كل الجهات
supervisor-measure = ما تعرضه الخريطة
supervisor-programme = البرنامج
supervisor-show = عرض
supervisor-map-hint = انقر على جهة لرؤية أقاليمها.
supervisor-map-label = خريطة: { $measure }، { $place }
supervisor-legend = مفتاح الخريطة
supervisor-no-data = لا أرقام (خارج نطاقك الترابي أو لا توجد أسر)
supervisor-range = من { $from } إلى { $to }
supervisor-area-title = { $name }: { $value }
supervisor-region = الجهة
supervisor-province = الإقليم أو العمالة
supervisor-total = المجموع
supervisor-territories-title = الأرقام حسب التراب: { $programme }
supervisor-programmes-title = الأرقام حسب البرنامج
supervisor-col-households = الأسر المسجلة
supervisor-col-scored = الأسر المنقطة
supervisor-col-eligible = المؤهلة
supervisor-col-enrolled = المسجلة في البرنامج
supervisor-col-gap = فجوة التغطية
supervisor-col-paid = المستفيدة من الأداء في آخر دورة
supervisor-col-under = تحت العتبة
supervisor-col-programme = البرنامج
supervisor-col-amount = المبلغ المؤدى
supervisor-col-cycle = آخر دورة
supervisor-col-month = الشهر
supervisor-col-period = الدورة
supervisor-measure-households = الأسر المسجلة في السجل
supervisor-measure-scored = الأسر المنقطة
supervisor-measure-eligible = الأسر المؤهلة
supervisor-measure-enrolled = الأسر المسجلة في البرنامج
supervisor-measure-paid = الأسر المستفيدة من الأداء في آخر دورة
supervisor-measure-under = نسبة الأسر تحت عتبة البرنامج
supervisor-measure-gap = فجوة التغطية: أسر مؤهلة غير مسجلة في البرنامج
supervisor-no-programme = لا يوجد بعد أي برنامج ساري المفعول.
supervisor-no-cycle = لم تُؤدَّ أي دورة بعد
supervisor-no-threshold = بدون عتبة
supervisor-chart-months = الأسر المسجلة كل شهر
supervisor-chart-cycles = الأسر المستفيدة من الأداء في كل دورة: { $programme }
supervisor-chart-table = أرقام الرسم البياني
supervisor-axis-households = الأسر
supervisor-bar-title = { $label }: { $value } أسرة
## الطلبات والشكايات على الخريطة
supervisor-measure-delay = الطلبات: المدة المعتادة لمرحلة (الوسيط)
supervisor-measure-breaches = الطلبات: نسبة المراحل المتجاوزة للأجل
supervisor-measure-rating = الرضا: متوسط النقطة من 5
supervisor-requests-all = كل الخدمات، الطلبات والشكايات معا
supervisor-requests-no-data = لا أرقام (خارج نطاقك الترابي أو لا طلب بعد)
supervisor-requests-title = الطلبات والشكايات حسب التراب
supervisor-requests-note-delay = المدة التي بقيها طلب في مرحلة من مراحل خدمته، على المراحل التي غادرها؛ نصفها استغرق أقل. تقرير التراب يبين أي مرحلة.
supervisor-requests-note-breaches = المراحل التي غادرها طلب بعد أجلها، أو ما زال فيها بعده، من بين كل المراحل التي مر بها.
supervisor-requests-note-rating = النقط التي منحها المواطنون (من 1 إلى 5) بعد إغلاق طلبهم أو شكايتهم.
supervisor-col-visits = المراحل التي مر بها
supervisor-col-rating = متوسط النقطة
supervisor-col-ratings = النقط الممنوحة
supervisor-breaches-value = { $count } ({ $share })
supervisor-rating-value = { $mark } من 5
supervisor-rating-title = { $n ->
    [zero] { $mark } من 5، بلا نقط
    [one] { $mark } من 5، نقطة واحدة
    [two] { $mark } من 5، نقطتان
    [few] { $mark } من 5، { $count } نقط
   *[other] { $mark } من 5، { $count } نقطة
}
supervisor-delays-link = فتح تقرير الآجال
supervisor-delays-of = الآجال: { $place }
